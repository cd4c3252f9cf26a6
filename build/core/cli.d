build/core/cli.o: core/cli.c core/cli.h core/../demos/demo.h \
 core/../demos/../core/db.h core/../demos/../core/step.h \
 core/../demos/../core/db.h core/db.h
core/cli.h:
core/../demos/demo.h:
core/../demos/../core/db.h:
core/../demos/../core/step.h:
core/../demos/../core/db.h:
core/db.h:
