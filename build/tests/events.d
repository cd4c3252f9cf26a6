build/tests/events.o: tests/events.c tests/../core/events.h \
 tests/../core/db.h tests/tap.h
tests/../core/events.h:
tests/../core/db.h:
tests/tap.h:
