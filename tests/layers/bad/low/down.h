/* SPDX-License-Identifier: Apache-2.0 */
/* A lower module that includes one above it. */
#include "down2.h"
