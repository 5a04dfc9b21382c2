/* bertsize: the closed-form cost formulas of BERT-family encoders, in C.
 *
 * Static inline, no Python.h: the Cython extensions (src/bertsize/_kernel.pyx and
 * _search.pyx) include it through _kernel.pxd; csrc/bs_stage.c compiles the same
 * formulas over doubles.  Written independently of the pure-Python oracle
 * (src/bertsize/oracle.py); tests check that the two agree metric by metric.
 */
#ifndef BERTSIZE_H
#define BERTSIZE_H

#include "bs_evaluate.h"

#endif
