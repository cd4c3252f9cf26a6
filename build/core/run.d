build/core/run.o: core/run.c core/run.h core/../demos/demo.h \
 core/../demos/../core/db.h core/../demos/../core/step.h \
 core/../demos/../core/db.h core/db.h core/events.h
core/run.h:
core/../demos/demo.h:
core/../demos/../core/db.h:
core/../demos/../core/step.h:
core/../demos/../core/db.h:
core/db.h:
core/events.h:
