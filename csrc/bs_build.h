/* The compiler that built the kernel, for bertsize.build_info(). */
#ifndef BERTSIZE_BUILD_H
#define BERTSIZE_BUILD_H

#if defined(__clang__)
#define BS_COMPILER "clang " __clang_version__
#elif defined(__GNUC__)
#define BS_COMPILER "gcc " __VERSION__
#elif defined(_MSC_VER)
#define BS_COMPILER "msvc"
#else
#define BS_COMPILER "unknown"
#endif

#endif
