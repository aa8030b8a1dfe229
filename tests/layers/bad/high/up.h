/* SPDX-License-Identifier: Apache-2.0 */
/* The higher layer. */
#include "down.h"
