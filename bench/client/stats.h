/* stats — a growable list of samples and the order statistics the bench
 * reports. Percentiles interpolate linearly between the two nearest ranks
 * (numpy's default), so the median of an even count is the mean of the two
 * middle values and p95 of 100 samples lies between the 95th and 96th. */
#ifndef BC_STATS_H
#define BC_STATS_H

#include <stddef.h>
#include <stdio.h>

struct bc_samples {
  double *v;
  size_t n, cap;
  int sorted;
};

/* 0 or -ENOMEM. */
int bc_samples_add(struct bc_samples *s, double v);
/* p in [0, 1]; sorts in place. NaN when empty. */
double bc_samples_pct(struct bc_samples *s, double p);
void bc_samples_free(struct bc_samples *s);

/* One row "label  median  p95  min  max" (values in ms, 3 decimals). */
void bc_samples_print(FILE *out, const char *label, struct bc_samples *s);
void bc_samples_print_header(FILE *out);

#endif
