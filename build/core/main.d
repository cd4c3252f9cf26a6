build/core/main.o: core/main.c core/cli.h core/../demos/demo.h \
 core/../demos/../core/db.h core/../demos/../core/step.h \
 core/../demos/../core/db.h core/db.h core/report.h core/run.h \
 core/events.h core/trace.h
core/cli.h:
core/../demos/demo.h:
core/../demos/../core/db.h:
core/../demos/../core/step.h:
core/../demos/../core/db.h:
core/db.h:
core/report.h:
core/run.h:
core/events.h:
core/trace.h:
