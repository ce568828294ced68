// libpng for Swift: the public header only; error handling goes through setjmp in ImageOutput's C-free design,
// so the writer uses png_image (the simplified API), which reports errors in a struct instead of longjmp.
#include <png.h>
