/* A lower module that includes one above it. */
#include "up.h"
