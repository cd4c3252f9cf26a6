build/core/events.o: core/events.c core/events.h core/db.h
core/events.h:
core/db.h:
