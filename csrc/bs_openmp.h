/* OpenMP behind one small header: with the compiler's OpenMP the real runtime, without
 * it a serial fallback of the two functions bertsize calls (cf. scikit-learn's
 * _openmp_helpers; Cython's prange and threadid need nothing without OpenMP). */
#ifndef BERTSIZE_OPENMP_H
#define BERTSIZE_OPENMP_H

#ifdef _OPENMP
#include <omp.h>
#define BS_OPENMP 1
#else
#define BS_OPENMP 0
static inline int omp_get_max_threads(void) { return 1; }
static inline int omp_get_thread_num(void) { return 0; }
#endif

#endif
