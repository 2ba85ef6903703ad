# Summary of a seed,distill,float_accuracy,int8_target_accuracy CSV: per column and per
# distill value the mean and its standard error (sample standard deviation / sqrt(n)), and the
# mean gain of distill 1 over 0 with the standard error of the paired differences.
BEGIN { FS = "," }
NR == 1 { for (i = 3; i <= NF; i++) name[i] = $i; cols = NF; next }
{
  for (i = 3; i <= cols; i++) { v[$2, i, ++n[$2, i]] = $i * 100; pair[$1, $2, i] = $i * 100 }
  seeds[$1] = 1
}
function stats(k, i,    j, m, s, c) {
  c = n[k, i]; m = 0; for (j = 1; j <= c; j++) m += v[k, i, j]; m /= c
  s = 0; for (j = 1; j <= c; j++) s += (v[k, i, j] - m) ^ 2
  se = c > 1 ? sqrt(s / (c - 1) / c) : 0
  return m
}
END {
  for (i = 3; i <= cols; i++) {
    m0 = stats(0, i); se0 = se; m1 = stats(1, i); se1 = se
    c = 0; md = 0
    for (sd in seeds) { d[++c] = pair[sd, 1, i] - pair[sd, 0, i]; md += d[c] }
    md /= c; s = 0; for (j = 1; j <= c; j++) s += (d[j] - md) ^ 2
    sed = c > 1 ? sqrt(s / (c - 1) / c) : 0
    printf "%-22s without %.2f ± %.2f %%, with %.2f ± %.2f %%, gain %+.2f ± %.2f pt (%d seeds)\n",
           name[i], m0, se0, m1, se1, md, sed, c
  }
}
