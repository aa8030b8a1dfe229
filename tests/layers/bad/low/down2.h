/* Half of a loop. */
#include "down.h"
