# adcbridge benchmark helper: a plain R implementation of the BOIN trial rules (BOIN 2.7.2 get.oc semantics as
# written in the project's specification: boundaries, elimination, n_earlystop on "stay", unchecked last cohort,
# MTD by isotonic regression), simulating one trial at a time the way the reference does.  Written for adcbridge
# to time R side by side with adcbridge on the same machine; it is not the reference package's code.
#
# Usage: Rscript boin_oc_loop.R NTRIAL [SEED]   -> prints "elapsed_s selpct..." for the 5-dose benchmark design.

args <- commandArgs(trailingOnly = TRUE)
ntrial <- as.integer(args[1]); seed <- if (length(args) > 1) as.integer(args[2]) else 1L
target <- 0.3; p_true <- c(0.05, 0.1, 0.2, 0.3, 0.5); ncohort <- 10L; csize <- 3L; cutoff <- 0.95
n_early <- 100L
J <- length(p_true); npts <- ncohort * csize

boundaries <- function(phi, phi1 = 0.6 * phi, phi2 = 1.4 * phi, nmax) {
  le <- log((1 - phi1) / (1 - phi)) / log(phi * (1 - phi1) / (phi1 * (1 - phi)))
  ld <- log((1 - phi) / (1 - phi2)) / log(phi2 * (1 - phi) / (phi * (1 - phi2)))
  n <- seq_len(nmax)
  esc <- floor(le * n)
  de <- ceiling(ld * n)
  exact_int <- abs(ld * n - round(ld * n)) < 1e-12
  de[exact_int] <- round(ld * n[exact_int]) + 1
  elim <- rep(NA_integer_, nmax)
  for (k in 3:nmax) {
    x <- seq_len(k)
    hit <- which(1 - pbeta(phi, x + 1, k - x + 1) > cutoff)
    if (length(hit)) elim[k] <- x[hit[1]]
  }
  de <- ifelse(is.na(elim), de, pmin(de, elim))
  list(le = le, ld = ld, esc = esc, de = de, elim = elim)
}

isotonic <- function(x, w) {
  m <- length(x); if (m <= 1) return(x)
  lvl <- seq_len(m)
  repeat {
    v <- which(diff(x) < 0)
    if (!length(v)) break
    i <- v[1]
    pool <- lvl == lvl[i] | lvl == lvl[i + 1]
    x[pool] <- sum(x[pool] * w[pool]) / sum(w[pool])
    lvl[pool] <- lvl[i]
  }
  x
}

choose_mtd <- function(n, y) {
  elim <- rep(FALSE, J)
  for (j in seq_len(J)) {
    if (n[j] >= 3 && 1 - pbeta(target, y[j] + 1, n[j] - y[j] + 1) > cutoff) { elim[j:J] <- TRUE; break }
  }
  adm <- which(n > 0 & !elim)
  if (elim[1] || !length(adm)) return(0L)
  ph <- (y[adm] + 0.05) / (n[adm] + 0.1)
  v <- (y[adm] + 0.05) * (n[adm] - y[adm] + 0.05) / ((n[adm] + 0.1)^2 * (n[adm] + 1.1))
  est <- isotonic(ph, 1 / v) + seq_along(adm) * 1e-10
  adm[which.min(abs(est - target))]
}

b <- boundaries(target, nmax = npts)
set.seed(seed)
t0 <- proc.time()[["elapsed"]]
sel <- integer(J + 1)
for (trial in seq_len(ntrial)) {
  n <- integer(J); y <- integer(J); d <- 1L; elim_from <- J + 1L; stopped <- FALSE
  for (k in seq_len(ncohort)) {
    u <- runif(csize)
    if (sum(n) + csize >= npts) {
      take <- npts - sum(n); y[d] <- y[d] + sum(u[seq_len(take)] < p_true[d]); n[d] <- n[d] + take; break
    }
    y[d] <- y[d] + sum(u < p_true[d]); n[d] <- n[d] + csize
    x <- b$elim[n[d]]
    if (!is.na(x) && y[d] >= x) { elim_from <- min(elim_from, d); if (d == 1L) { stopped <- TRUE; break } }
    low <- y[d] <= b$esc[n[d]]; high <- y[d] >= b$de[n[d]]
    blocked <- d == J || elim_from <= d + 1L
    stay <- (!low && !high) || (d == 1L && high) || (blocked && low)
    if (n[d] >= n_early && stay) break
    if (low && d < J) { if (!blocked) d <- d + 1L } else if (high && d > 1L) d <- d - 1L
  }
  m <- if (stopped) 0L else choose_mtd(n, y)
  sel[m + 1L] <- sel[m + 1L] + 1L
}
elapsed <- proc.time()[["elapsed"]] - t0
cat(sprintf("%.4f", elapsed), sprintf("%.3f", 100 * sel / ntrial), "\n")
