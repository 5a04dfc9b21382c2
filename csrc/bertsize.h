/* bertsize: the closed-form cost formulas of BERT-family encoders, in C.
 *
 * Header-only, static inline, no Python.h: the Cython kernel (src/bertsize/_kernel.pyx)
 * is the only includer.  Written independently of the pure-Python oracle
 * (src/bertsize/oracle.py); tests check that the two agree metric by metric.
 */
#ifndef BERTSIZE_H
#define BERTSIZE_H

#include "bs_evaluate.h"

#endif
