build/demos/demo.o: demos/demo.c demos/demo.h demos/../core/db.h \
 demos/../core/step.h demos/../core/db.h
demos/demo.h:
demos/../core/db.h:
demos/../core/step.h:
demos/../core/db.h:
