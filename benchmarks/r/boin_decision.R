# adcbridge benchmark helper: the BOIN decision table and one next-dose decision in base R (BOIN 2.7.2
# get.boundary semantics as written in the project's specification), so that `Rscript` can be timed as a whole
# process beside `adcbridge boin next` / `adcbridge boin table`.  Written for adcbridge; not the reference
# package's code (the BOIN package is not installable on this machine).
#
# Usage: Rscript boin_decision.R TARGET NDOSES COHORTSIZE NCOHORTS "dose:n:dlt,dose:n:dlt,..." CURRENT
#   -> prints lambda_e, lambda_d, the elimination counts and the decision.

args <- commandArgs(trailingOnly = TRUE)
target <- as.numeric(args[1]); ndose <- as.integer(args[2]); csize <- as.integer(args[3])
ncohort <- as.integer(args[4]); counts <- strsplit(strsplit(args[5], ",")[[1]], ":")
current <- as.integer(args[6]); cutoff <- 0.95
phi1 <- 0.6 * target; phi2 <- 1.4 * target
le <- log((1 - phi1) / (1 - target)) / log(target * (1 - phi1) / (phi1 * (1 - target)))
ld <- log((1 - target) / (1 - phi2)) / log(phi2 * (1 - target) / (target * (1 - phi2)))
nmax <- ncohort * csize
n <- seq_len(nmax)
esc <- floor(le * n); de <- ceiling(ld * n)
exact_int <- abs(ld * n - round(ld * n)) < 1e-12
de[exact_int] <- round(ld * n[exact_int]) + 1
elim <- rep(NA_integer_, nmax)
for (k in 3:nmax) {
  x <- seq_len(k)
  hit <- which(1 - pbeta(target, x + 1, k - x + 1) > cutoff)
  if (length(hit)) elim[k] <- x[hit[1]]
}
nn <- rep(0L, ndose); yy <- rep(0L, ndose)
for (c in counts) { d <- as.integer(c[1]); nn[d] <- as.integer(c[2]); yy[d] <- as.integer(c[3]) }
elim_dose <- ndose + 1L
for (j in seq_len(ndose)) if (nn[j] >= 3 && !is.na(elim[nn[j]]) && yy[j] >= elim[nn[j]]) { elim_dose <- j; break }
nd <- nn[current]; yd <- yy[current]
decision <- if (current >= elim_dose) "de-escalate" else if (yd <= esc[nd] && current < ndose &&
  current + 1 < elim_dose) "escalate" else if (yd >= de[nd] && current > 1) "de-escalate" else "stay"
cat(sprintf("lambda_e %.4f lambda_d %.4f\n", le, ld))
cat("eliminate_if_dlt_ge", elim, "\n")
cat("decision", decision, "\n")
