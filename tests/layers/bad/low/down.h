/* A lower module that includes one above it. */
#include "down2.h"
