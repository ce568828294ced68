// ncursesw for Swift. SwiftPM drops the -D flags of ncursesw.pc, so the wide-character API is
// switched on here before curses.h; C globals that Swift 6 rejects as not concurrency-safe get
// static-inline accessors.
#ifndef LBX_CNCURSES_SHIM_H
#define LBX_CNCURSES_SHIM_H
#define NCURSES_WIDECHAR 1
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#include <ncursesw/curses.h>
#include <locale.h>
#include <langinfo.h>

/// The standard screen (a C global).
static inline WINDOW *lbx_stdscr(void) { return stdscr; }
/// Colours the terminal supports after start_color (a C global).
static inline int lbx_colors(void) { return COLORS; }
/// Colour pairs available after start_color (a C global).
static inline int lbx_color_pairs(void) { return COLOR_PAIRS; }
/// Screen size in cells (C globals).
static inline int lbx_lines(void) { return LINES; }
static inline int lbx_cols(void) { return COLS; }
/// Puts one wide character with attributes and an extended colour pair at (y, x).
/// setcchar takes pairs above 32767 only through its opts pointer.
static inline int lbx_put_cell(int y, int x, const wchar_t *text, attr_t attributes, int pair) {
    cchar_t cell;
    if (setcchar(&cell, text, attributes, 0, &pair) != OK) return ERR;
    return mvwadd_wch(stdscr, y, x, &cell);
}
/// Attribute bits (function-like macros Swift cannot import).
static inline attr_t lbx_attr_bold(void) { return A_BOLD; }
static inline attr_t lbx_attr_dim(void) { return A_DIM; }
static inline attr_t lbx_attr_underline(void) { return A_UNDERLINE; }
static inline attr_t lbx_attr_reverse(void) { return A_REVERSE; }
/// Starts curses on the process's stdin and stdout (C globals) with terminfo entry `name`.
static inline SCREEN *lbx_newterm(const char *name) { return newterm(name, stdout, stdin); }
/// Starts curses on other file descriptors (a pseudo-terminal, for measurements).
static inline SCREEN *lbx_newterm_fds(const char *name, int output_fd, int input_fd) {
    FILE *output = fdopen(output_fd, "w");
    FILE *input = fdopen(input_fd, "r");
    if (output == 0 || input == 0) return 0;
    return newterm(name, output, input);
}
/// term.h's setupterm, declared alone: term.h itself defines macros (`lines`, `columns`) that
/// would clash with Swift names.
int setupterm(const char *term, int filedes, int *errret);
/// Colours of terminfo entry `name` without starting curses (for `lightbox doctor`); -1 when the
/// entry cannot be read. `rgb` is set when the entry declares direct colour.
static inline int lbx_terminfo_colours(const char *name, int *rgb) {
    int status = 0;
    if (setupterm(name, -1, &status) != OK) return -1;
    *rgb = tigetflag("RGB") > 0;
    return tigetnum("colors");
}
/// True when the locale's character set is UTF-8.
static inline int lbx_locale_is_utf8(void) {
    const char *codeset = nl_langinfo(CODESET);
    return codeset != 0 && (codeset[0] == 'U' || codeset[0] == 'u') && (codeset[1] == 'T' || codeset[1] == 't');
}
#endif
