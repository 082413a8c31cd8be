#include "stats.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

int bc_samples_add(struct bc_samples *s, double v) {
  if (s->n == s->cap) {
    size_t ncap = s->cap ? s->cap * 2 : 64;
    double *n = realloc(s->v, ncap * sizeof *n);
    if (!n)
      return -ENOMEM;
    s->v = n;
    s->cap = ncap;
  }
  s->v[s->n++] = v;
  s->sorted = 0;
  return 0;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

double bc_samples_pct(struct bc_samples *s, double p) {
  if (!s->n)
    return NAN;
  if (!s->sorted) {
    qsort(s->v, s->n, sizeof *s->v, cmp);
    s->sorted = 1;
  }
  double rank = p * (double)(s->n - 1);
  size_t lo = (size_t)rank;
  if (lo + 1 >= s->n)
    return s->v[s->n - 1];
  return s->v[lo] + (rank - (double)lo) * (s->v[lo + 1] - s->v[lo]);
}

void bc_samples_free(struct bc_samples *s) {
  free(s->v);
  s->v = NULL;
  s->n = s->cap = 0;
}

void bc_samples_print_header(FILE *out) {
  fprintf(out, "  %-44s %9s %9s %9s %9s\n", "interval (ms)", "median", "p95", "min", "max");
}

void bc_samples_print(FILE *out, const char *label, struct bc_samples *s) {
  if (!s->n) {
    fprintf(out, "  %-44s %9s\n", label, "-");
    return;
  }
  fprintf(out, "  %-44s %9.3f %9.3f %9.3f %9.3f\n", label, bc_samples_pct(s, 0.5),
          bc_samples_pct(s, 0.95), bc_samples_pct(s, 0), bc_samples_pct(s, 1));
}
