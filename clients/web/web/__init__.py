"""The web app for guardians and students (clients/web): a backend-for-frontend."""
