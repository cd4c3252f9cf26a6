build/tests/cli.o: tests/cli.c tests/../core/cli.h \
 tests/../core/../demos/demo.h tests/../core/../demos/../core/db.h \
 tests/../core/../demos/../core/step.h \
 tests/../core/../demos/../core/db.h tests/../core/db.h tests/tap.h
tests/../core/cli.h:
tests/../core/../demos/demo.h:
tests/../core/../demos/../core/db.h:
tests/../core/../demos/../core/step.h:
tests/../core/../demos/../core/db.h:
tests/../core/db.h:
tests/tap.h:
