build/core/db.o: core/db.c core/db.h
core/db.h:
