// zlib (a dependency of libpng, so already installed): deflate for Kitty graphics payloads (o=z).
#include <zlib.h>
