/* The other half of the loop. */
#include "down.h"
