-- One database per service: each service owns its own (DESIGN §1). The postgres image
-- runs this once, as the user `school`, on an empty data directory; each database is then
-- owned by `school`. Checked against deploy/services.toml by tests/deploy.
CREATE DATABASE identity;
CREATE DATABASE journal;
CREATE DATABASE diary;
CREATE DATABASE consent;
CREATE DATABASE notify;
CREATE DATABASE archive;
-- The web app's sign-in sessions (clients/web).
CREATE DATABASE web;
