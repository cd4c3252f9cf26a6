build/demos/coupon.o: demos/coupon.c demos/demo.h demos/../core/db.h \
 demos/../core/step.h demos/../core/db.h
demos/demo.h:
demos/../core/db.h:
demos/../core/step.h:
demos/../core/db.h:
