/*
 * A regex as an automaton, for the linter (pack-tools/lint-names.c): can a
 * pattern of a name key match any of the names the key can meet?
 *
 * The regex is read into a Thompson automaton over bytes, with the anchors
 * as steps that hold only at the start or the end of the name, and searched
 * together with a model of the names (emb_rx_model_t): the bytes they hold,
 * whether a dot may lead or follow a dot, whether one may end the name. A
 * match may start anywhere in the name (after a letter) and the name may go
 * on after it, as with Hyperscan's unanchored matching.
 *
 * Both sides are kept on the safe side: a construct the reader does not
 * follow gives no automaton, and a class or escape it is unsure of (\s, a
 * dot) is read as matching more, never less, so "no name holds a match" is
 * only said when it is so.
 */
#include "pack-tools/lint-regex.h"

#include <stdlib.h>
#include <string.h>

/* ---- byte sets ---------------------------------------------------------- */

static void bs_union(emb_bset_t *s, const emb_bset_t *t) {
    for (int i = 0; i < 4; i++)
        s->w[i] |= t->w[i];
}

static void bs_not(emb_bset_t *s) {
    for (int i = 0; i < 4; i++)
        s->w[i] = ~s->w[i];
}

static emb_bset_t bs_of(const char *members) {
    emb_bset_t s = {{0}};
    for (; *members; members++)
        emb__bs_add(&s, (unsigned char)*members);
    return s;
}

/* ---- reading a regex into an automaton ---------------------------------- */

enum { N_EPS, N_SET, N_BEGIN, N_END, N_ENDZ, N_MATCH };

#define RX_MAX_NODES 8192
#define RX_MAX_DEPTH 100
#define RX_MAX_REPEAT 1000

typedef struct {
    uint8_t type;
    int out, out2;
    emb_bset_t set; /* N_SET */
} rnode_t;

typedef struct {
    const char *re;
    size_t len, pos;
    rnode_t *n;
    int nn, cap, depth;
    bool icase, multi; /* (?i), (?m) in force */
    bool bad;          /* beyond this reader, or too big: no verdict */
} rx_t;

/* A piece of automaton: from `in` to `out`, an N_EPS whose `out` is still open. */
typedef struct {
    int in, out;
} frag_t;

/* A new node; node 0 stands in for the rest once the reader has given up. */
static int node(rx_t *x, int type) {
    if (x->nn == x->cap) {
        int cap = x->cap ? x->cap * 2 : 64;
        rnode_t *n = x->nn < RX_MAX_NODES ? realloc(x->n, (size_t)cap * sizeof(*n)) : NULL;
        if (n == NULL) {
            x->bad = true;
            return 0;
        }
        x->n = n;
        x->cap = cap;
    }
    rnode_t *n = &x->n[x->nn];
    memset(n, 0, sizeof(*n));
    n->type = (uint8_t)type;
    n->out = n->out2 = -1;
    return x->nn++;
}

static frag_t frag_of(rx_t *x, int type, const emb_bset_t *set) {
    int a = node(x, type), e = type == N_EPS ? a : node(x, N_EPS);
    if (type != N_EPS)
        x->n[a].out = e;
    if (set)
        x->n[a].set = *set;
    return (frag_t){a, e};
}

static frag_t concat(rx_t *x, frag_t a, frag_t b) {
    x->n[a.out].out = b.in;
    return (frag_t){a.in, b.out};
}

static frag_t either(rx_t *x, frag_t a, frag_t b) {
    int s = node(x, N_EPS), j = node(x, N_EPS);
    x->n[s].out = a.in;
    x->n[s].out2 = b.in;
    x->n[a.out].out = j;
    x->n[b.out].out = j;
    return (frag_t){s, j};
}

/* a* when `loop`, a? otherwise */
static frag_t repeat(rx_t *x, frag_t a, bool loop) {
    int s = node(x, N_EPS), e = node(x, N_EPS);
    x->n[s].out = a.in;
    x->n[s].out2 = e;
    x->n[a.out].out = loop ? s : e;
    return (frag_t){s, e};
}

static bool at(const rx_t *x, char c) {
    return x->pos < x->len && x->re[x->pos] == c;
}

static frag_t rx_alt(rx_t *x);

/* The escapes that stand for a set: what they match at most (`wide`) or at
 * least. A negated one is the complement of the other bound of its positive. */
static bool escape_set(char c, bool wide, emb_bset_t *s) {
    bool neg = c >= 'A' && c <= 'Z', most = wide != neg;
    emb_bset_t t = {{0}};
    switch (c | 0x20) {
    case 'd': emb__bs_range(&t, '0', '9'); break;
    case 'w':
        emb__bs_range(&t, '0', '9');
        emb__bs_range(&t, 'a', 'z');
        emb__bs_range(&t, 'A', 'Z');
        emb__bs_add(&t, '_');
        break;
    case 's': t = most ? bs_of("\t\n\v\f\r \x85\xa0") : bs_of("\t\n\f\r "); break;
    case 'h': t = most ? bs_of("\t \xa0") : bs_of("\t "); break;
    case 'v': t = most ? bs_of("\n\v\f\r\x85") : bs_of("\n\v\f\r"); break;
    default: return false;
    }
    if (neg)
        bs_not(&t);
    *s = t;
    return true;
}

/* After a backslash: the byte an escape stands for, or -1 (and *s) for a set,
 * or -2 when this reader does not follow it. */
static int escape_byte(rx_t *x, bool in_class, bool wide, emb_bset_t *s) {
    if (x->pos >= x->len)
        return -2;
    char c = x->re[x->pos++];
    if (escape_set(c, wide, s))
        return -1;
    switch (c) {
    case 'n': return '\n';
    case 't': return '\t';
    case 'r': return '\r';
    case 'f': return '\f';
    case 'e': return 0x1b;
    case 'a': return 0x07;
    case 'b': return in_class ? 0x08 : -2;
    case '0': {
        int v = 0;
        for (int k = 0; k < 2 && x->pos < x->len && x->re[x->pos] >= '0' && x->re[x->pos] <= '7';
             k++)
            v = v * 8 + (x->re[x->pos++] - '0');
        return v;
    }
    case 'x': {
        int v = 0, k = 0;
        if (at(x, '{')) {
            x->pos++;
            for (; x->pos < x->len && x->re[x->pos] != '}' && v <= 0xff; k++) {
                char h = x->re[x->pos++];
                int d = h >= '0' && h <= '9'                     ? h - '0'
                        : (h | 0x20) >= 'a' && (h | 0x20) <= 'f' ? (h | 0x20) - 'a' + 10
                                                                 : -1;
                if (d < 0)
                    return -2;
                v = v * 16 + d;
            }
            if (!at(x, '}') || k == 0 || v > 0xff)
                return -2;
            x->pos++;
            return v;
        }
        for (; k < 2 && x->pos < x->len; k++) {
            char h = x->re[x->pos];
            int d = h >= '0' && h <= '9'                     ? h - '0'
                    : (h | 0x20) >= 'a' && (h | 0x20) <= 'f' ? (h | 0x20) - 'a' + 10
                                                             : -1;
            if (d < 0)
                break;
            v = v * 16 + d;
            x->pos++;
        }
        return v;
    }
    default:
        /* backreferences, \p, \Q, \c, \G and the like: not followed */
        if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
            return -2;
        return (unsigned char)c;
    }
}

/* A POSIX class inside [...], from "[:" on; false when not followed. */
static bool posix_class(rx_t *x, bool wide, emb_bset_t *s) {
    static const struct {
        const char *name;
        char esc;
        const char *lo, *hi;
    } tab[] = {{"alpha", 0, "aA", "zZ"},  {"digit", 'd', NULL, NULL}, {"alnum", 0, "aA0", "zZ9"},
               {"upper", 0, "A", "Z"},    {"lower", 0, "a", "z"},     {"xdigit", 0, "0aA", "9fF"},
               {"word", 'w', NULL, NULL}, {"space", 's', NULL, NULL}, {"blank", 'h', NULL, NULL}};
    const char *end = NULL;
    for (size_t i = x->pos + 2; i + 1 < x->len; i++)
        if (x->re[i] == ':' && x->re[i + 1] == ']') {
            end = x->re + i;
            break;
        }
    if (end == NULL)
        return false;
    const char *name = x->re + x->pos + 2;
    size_t n = (size_t)(end - name);
    for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
        if (strlen(tab[i].name) != n || memcmp(tab[i].name, name, n) != 0)
            continue;
        emb_bset_t t = {{0}};
        if (tab[i].esc)
            escape_set(tab[i].esc, wide, &t);
        else
            for (size_t k = 0; tab[i].lo[k]; k++)
                emb__bs_range(&t, (unsigned char)tab[i].lo[k], (unsigned char)tab[i].hi[k]);
        bs_union(s, &t);
        x->pos = (size_t)(end - x->re) + 2;
        return true;
    }
    return false; /* [:^name:], [:punct:] and the rest */
}

/* Both cases of each letter of s. */
static void fold_case(emb_bset_t *s) {
    for (unsigned c = 'a'; c <= 'z'; c++)
        if (emb__bs_has(s, c) || emb__bs_has(s, c - 32)) {
            emb__bs_add(s, c);
            emb__bs_add(s, c - 32);
        }
}

/* A class, from after its '['. A negated class takes the members it surely
 * has, so that what it matches is never less than Hyperscan's. */
static emb_bset_t rx_class(rx_t *x) {
    emb_bset_t s = {{0}}, t;
    bool neg = at(x, '^');
    if (neg)
        x->pos++;
    bool wide = !neg, first = true;
    for (;;) {
        if (x->pos >= x->len) {
            x->bad = true;
            return s;
        }
        char c = x->re[x->pos];
        if (c == ']' && !first) {
            x->pos++;
            break;
        }
        first = false;
        if (c == '[' && x->pos + 1 < x->len &&
            (x->re[x->pos + 1] == ':' || x->re[x->pos + 1] == '.' || x->re[x->pos + 1] == '=')) {
            /* [:name:]; collating elements [.x.] and [=x=] are not followed */
            if (x->re[x->pos + 1] != ':' || !posix_class(x, wide, &s)) {
                x->bad = true;
                return s;
            }
            continue;
        }
        x->pos++;
        int lo = c == '\\' ? escape_byte(x, true, wide, &t) : (unsigned char)c;
        if (lo == -2) {
            x->bad = true;
            return s;
        }
        if (lo == -1) {
            bs_union(&s, &t);
            continue;
        }
        int hi = lo;
        if (at(x, '-') && x->pos + 1 < x->len && x->re[x->pos + 1] != ']') {
            x->pos++;
            char d = x->re[x->pos++];
            hi = d == '\\' ? escape_byte(x, true, wide, &t) : (unsigned char)d;
            if (hi < lo || d == '[') {
                x->bad = true;
                return s;
            }
        }
        emb__bs_range(&s, (unsigned)lo, (unsigned)hi);
    }
    if (x->icase)
        fold_case(&s);
    if (neg)
        bs_not(&s);
    return s;
}

/* A group, from after its '('; false for one that only sets flags or is a
 * comment (nothing to repeat). Flags set by "(?i)" hold to the end of the
 * enclosing group, which puts them back. */
static bool rx_group(rx_t *x, frag_t *f) {
    bool icase = x->icase, multi = x->multi;
    if (at(x, '?')) {
        x->pos++;
        if (at(x, '#')) {
            while (x->pos < x->len && x->re[x->pos] != ')')
                x->pos++;
            x->bad |= !at(x, ')');
            x->pos++;
            return false;
        }
        if (at(x, ':')) {
            x->pos++;
        } else if (at(x, '<') || at(x, 'P') || at(x, '\'')) {
            /* a named group; (?<= and (?<! are lookbehinds, not followed */
            size_t p = x->pos + (at(x, 'P') ? 1 : 0);
            if (p + 1 >= x->len || x->re[p + 1] == '=' || x->re[p + 1] == '!' ||
                (x->re[p] != '<' && x->re[p] != '\'')) {
                x->bad = true;
                return false;
            }
            char close = x->re[p] == '<' ? '>' : '\'';
            x->pos = p + 1;
            while (x->pos < x->len && x->re[x->pos] != close)
                x->pos++;
            x->pos++;
        } else {
            bool on = true;
            for (;; x->pos++) {
                char c = x->pos < x->len ? x->re[x->pos] : '\0';
                if (c == '-')
                    on = false;
                else if (c == 'i')
                    x->icase = on;
                else if (c == 'm')
                    x->multi = on;
                else if (c == 's')
                    continue; /* a dot is read as any byte anyway */
                else if (c == ')') {
                    x->pos++;
                    return false;
                } else if (c == ':') {
                    x->pos++;
                    break;
                } else {
                    x->bad = true; /* (?x), lookarounds, atomic groups and the rest */
                    return false;
                }
            }
        }
    }
    if (++x->depth > RX_MAX_DEPTH) {
        x->bad = true;
        return false;
    }
    *f = rx_alt(x);
    x->depth--;
    x->bad |= !at(x, ')');
    x->pos++;
    x->icase = icase;
    x->multi = multi;
    return true;
}

/* One atom; false when there is nothing to repeat. */
static bool rx_atom(rx_t *x, frag_t *f) {
    char c = x->re[x->pos++];
    emb_bset_t s = {{0}};
    int b;
    switch (c) {
    case '(': return rx_group(x, f);
    case '[':
        s = rx_class(x);
        *f = frag_of(x, N_SET, &s);
        return true;
    case '.':
        bs_not(&s);
        *f = frag_of(x, N_SET, &s);
        return true;
    /* with (?m) these hold after a line break too: read as always holding */
    case '^': *f = frag_of(x, x->multi ? N_EPS : N_BEGIN, NULL); return true;
    case '$': *f = frag_of(x, x->multi ? N_EPS : N_END, NULL); return true;
    case '*':
    case '+':
    case '?': x->bad = true; return false;
    case '\\':
        if (x->pos < x->len && x->re[x->pos] != '\0' && strchr("AzZbB", x->re[x->pos])) {
            c = x->re[x->pos++];
            *f = frag_of(x,
                         c == 'A'   ? N_BEGIN
                         : c == 'z' ? N_ENDZ
                         : c == 'Z' ? N_END
                                    : N_EPS,
                         NULL);
            return true;
        }
        b = escape_byte(x, false, true, &s);
        if (b == -2) {
            x->bad = true;
            return false;
        }
        break;
    default: b = (unsigned char)c; break;
    }
    if (b >= 0)
        emb__bs_add(&s, (unsigned)b);
    if (x->icase)
        fold_case(&s);
    *f = frag_of(x, N_SET, &s);
    return true;
}

/* A counted repeat {n}, {n,} or {n,m} at x->pos; m < 0 for no bound. */
static bool counted(const rx_t *x, int *n, int *m, size_t *end) {
    size_t p = x->pos + 1;
    long a = -1, b = -1;
    for (; p < x->len && x->re[p] >= '0' && x->re[p] <= '9' && a < 100000; p++)
        a = (a < 0 ? 0 : a * 10) + (x->re[p] - '0');
    if (a < 0 || p >= x->len)
        return false;
    if (x->re[p] == ',') {
        for (p++; p < x->len && x->re[p] >= '0' && x->re[p] <= '9' && b < 100000; p++)
            b = (b < 0 ? 0 : b * 10) + (x->re[p] - '0');
    } else {
        b = a;
    }
    if (p >= x->len || x->re[p] != '}')
        return false;
    *n = (int)a;
    *m = (int)b;
    *end = p + 1;
    return true;
}

/* The atom at `from`, read again with the flags it was read with: a copy for
 * a counted repeat. */
static frag_t again(rx_t *x, size_t from, bool icase, bool multi) {
    size_t pos = x->pos;
    bool i = x->icase, m = x->multi;
    x->pos = from;
    x->icase = icase;
    x->multi = multi;
    frag_t f = frag_of(x, N_EPS, NULL);
    rx_atom(x, &f);
    x->pos = pos;
    x->icase = i;
    x->multi = m;
    return f;
}

static frag_t rx_quantified(rx_t *x, frag_t a, size_t from, bool icase, bool multi) {
    int n = 1, m = 1;
    size_t end = x->pos + 1;
    char c = x->pos < x->len ? x->re[x->pos] : '\0';
    if (c == '*')
        n = 0, m = -1;
    else if (c == '+')
        m = -1;
    else if (c == '?')
        n = 0;
    else if (c != '{' || !counted(x, &n, &m, &end))
        return a;
    x->pos = end;
    if (at(x, '?'))
        x->pos++; /* lazy: the same strings */
    if (at(x, '+') || at(x, '*') || at(x, '{') || n > RX_MAX_REPEAT || m > RX_MAX_REPEAT ||
        (m >= 0 && m < n)) {
        x->bad = true; /* possessive, a repeat of a repeat, or too many copies */
        return a;
    }
    frag_t f = frag_of(x, N_EPS, NULL);
    int made = 0;
    for (; made < n && !x->bad; made++)
        f = concat(x, f, made == 0 ? a : again(x, from, icase, multi));
    if (m < 0)
        return concat(x, f, repeat(x, made == 0 ? a : again(x, from, icase, multi), true));
    for (; made < m && !x->bad; made++)
        f = concat(x, f, repeat(x, made == 0 ? a : again(x, from, icase, multi), false));
    return f;
}

static frag_t rx_seq(rx_t *x) {
    frag_t f = frag_of(x, N_EPS, NULL);
    while (!x->bad && x->pos < x->len && x->re[x->pos] != '|' && x->re[x->pos] != ')') {
        size_t from = x->pos;
        bool icase = x->icase, multi = x->multi;
        frag_t a;
        if (rx_atom(x, &a) && !x->bad)
            f = concat(x, f, rx_quantified(x, a, from, icase, multi));
    }
    return f;
}

static frag_t rx_alt(rx_t *x) {
    frag_t f = rx_seq(x);
    while (!x->bad && at(x, '|')) {
        x->pos++;
        f = either(x, f, rx_seq(x));
    }
    return f;
}

struct emb_rx {
    rnode_t *n;
    int nn, start;
};

emb_rx_t *emb__rx_read(const char *re, size_t len) {
    rx_t x = {.re = re, .len = len};
    node(&x, N_EPS); /* node 0: never reached, a stand-in when the reader gives up */
    frag_t f = x.bad ? (frag_t){0, 0} : rx_alt(&x);
    x.bad |= x.pos < x.len; /* a ')' too many */
    int match = node(&x, N_MATCH);
    emb_rx_t *rx = x.bad ? NULL : malloc(sizeof(*rx));
    if (rx == NULL) {
        free(x.n);
        return NULL;
    }
    x.n[f.out].out = match;
    *rx = (emb_rx_t){x.n, x.nn, f.in};
    return rx;
}

void emb__rx_free(emb_rx_t *rx) {
    if (rx)
        free(rx->n);
    free(rx);
}

/* ---- the search ---------------------------------------------------------- */

enum { M_START, M_CHAR, M_DOT };    /* before: nothing, a byte other than '.', a dot */
enum { E_FREE, E_NL, E_END, E__N }; /* after: anything, a final '\n' only, nothing */

bool emb__rx_can_match(const emb_rx_t *x, const emb_rx_model_t *md) {
    int start = x->start;
    size_t nstates = (size_t)x->nn * 3 * E__N;
    bool *seen = calloc(nstates, sizeof(bool));
    int *stack = malloc(nstates * sizeof(int));
    bool found = false;
    size_t sp = 0;
#define PUSH(nd, m, e)                                                                             \
    do {                                                                                           \
        size_t k_ = ((size_t)(nd)*3 + (size_t)(m)) * E__N + (size_t)(e);                           \
        if ((nd) >= 0 && !seen[k_]) {                                                              \
            seen[k_] = true;                                                                       \
            stack[sp++] = (int)k_;                                                                 \
        }                                                                                          \
    } while (0)
    if (seen == NULL || stack == NULL) {
        free(seen);
        free(stack);
        return true; /* no verdict */
    }
    PUSH(start, M_START, E_FREE);
    PUSH(start, M_CHAR, E_FREE); /* a match may start inside the name, after a letter */
    while (sp > 0 && !found) {
        int k = stack[--sp];
        int e = k % E__N, m = k / E__N % 3, nd = k / E__N / 3;
        const rnode_t *n = &x->n[nd];
        bool end_ok = !(md->no_end_dot && m == M_DOT);
        switch (n->type) {
        case N_MATCH: found = true; break; /* the name may go on: 'a' after a dot */
        case N_EPS:
            PUSH(n->out, m, e);
            PUSH(n->out2, m, e);
            break;
        case N_BEGIN:
            if (m == M_START)
                PUSH(n->out, m, e);
            break;
        case N_END: /* $ and \Z: the end, or before a final line break */
            if (e != E_FREE)
                PUSH(n->out, m, e);
            else if (end_ok)
                PUSH(n->out, m, E_END);
            if (e == E_FREE && end_ok && emb__bs_has(&md->bytes, '\n'))
                PUSH(n->out, m, E_NL);
            break;
        case N_ENDZ:
            if (e == E_END || (e == E_FREE && end_ok))
                PUSH(n->out, m, E_END);
            break;
        case N_SET: {
            if (e == E_END)
                break;
            if (e == E_NL) {
                if (emb__bs_has(&n->set, '\n') && emb__bs_has(&md->bytes, '\n'))
                    PUSH(n->out, M_CHAR, E_END);
                break;
            }
            emb_bset_t ok = n->set;
            for (int i = 0; i < 4; i++)
                ok.w[i] &= md->bytes.w[i];
            if (emb__bs_has(&ok, '.') && !(md->labels && m != M_CHAR))
                PUSH(n->out, M_DOT, E_FREE);
            emb__bs_del(&ok, '.');
            if (ok.w[0] | ok.w[1] | ok.w[2] | ok.w[3])
                PUSH(n->out, M_CHAR, E_FREE);
            break;
        }
        default: break;
        }
    }
#undef PUSH
    free(seen);
    free(stack);
    return found;
}
