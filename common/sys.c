#include "common/sys.h"

struct sys_table sys;
