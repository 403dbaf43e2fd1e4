"""Journal: the staff-side class journal: school year, timetable, lessons, marks, attendance, final marks."""
