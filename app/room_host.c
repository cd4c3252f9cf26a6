/* placeholder */
#include "room_cmd.h"
int room_host_main(int argc, char **argv) { (void)argc; (void)argv; return 70; }
