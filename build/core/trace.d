build/core/trace.o: core/trace.c core/trace.h core/events.h core/db.h
core/trace.h:
core/events.h:
core/db.h:
