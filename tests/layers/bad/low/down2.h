/* SPDX-License-Identifier: Apache-2.0 */
/* Half of a loop. */
#include "down.h"
