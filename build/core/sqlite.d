build/core/sqlite.o: core/sqlite.c core/db.h
core/db.h:
