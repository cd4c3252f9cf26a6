build/demos/product.o: demos/product.c demos/demo.h demos/../core/db.h \
 demos/../core/step.h demos/../core/db.h
demos/demo.h:
demos/../core/db.h:
demos/../core/step.h:
demos/../core/db.h:
