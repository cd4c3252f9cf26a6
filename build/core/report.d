build/core/report.o: core/report.c core/report.h core/run.h \
 core/../demos/demo.h core/../demos/../core/db.h \
 core/../demos/../core/step.h core/../demos/../core/db.h core/db.h \
 core/events.h core/cli.h
core/report.h:
core/run.h:
core/../demos/demo.h:
core/../demos/../core/db.h:
core/../demos/../core/step.h:
core/../demos/../core/db.h:
core/db.h:
core/events.h:
core/cli.h:
