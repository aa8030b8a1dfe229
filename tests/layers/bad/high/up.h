/* The higher layer. */
#include "down.h"
