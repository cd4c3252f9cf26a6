build/tests/report.o: tests/report.c tests/../core/report.h \
 tests/../core/run.h tests/../core/../demos/demo.h \
 tests/../core/../demos/../core/db.h \
 tests/../core/../demos/../core/step.h \
 tests/../core/../demos/../core/db.h tests/../core/db.h \
 tests/../core/events.h tests/tap.h
tests/../core/report.h:
tests/../core/run.h:
tests/../core/../demos/demo.h:
tests/../core/../demos/../core/db.h:
tests/../core/../demos/../core/step.h:
tests/../core/../demos/../core/db.h:
tests/../core/db.h:
tests/../core/events.h:
tests/tap.h:
