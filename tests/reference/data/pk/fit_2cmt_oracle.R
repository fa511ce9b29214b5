# R oracle for adcbridge.pk: closed-form 2-compartment IV-infusion fits of four animals' ADC data
# (synthetic cynomolgus study, BLQ and pre-dose samples removed: r_oracle_input.csv).
# Base R only (R 4.2.2: nls, optim, optimHess).  Run from this folder:
#     Rscript fit_2cmt_oracle.R      -> r_oracle_2cmt.csv, r_oracle_timing.csv
# Parameters on the log scale: lCL, lV1, lQ, lV2 (CL, Q in mL/h/kg; V in mL/kg); dose mg/kg, conc ug/mL.
#  (a) nls: log-transform-both-sides, log(CONC) ~ log(f); Gauss-Newton SEs s^2 (J'J)^-1, s^2 = RSS/(n-p).
#  (b) optim: proportional error by maximum likelihood (extended least squares),
#      OFV = sum(log(2 pi (s f)^2) + ((y - f)/(s f))^2) over (lCL, lV1, lQ, lV2, lsigma); BFGS from the nls
#      estimates, then the Hessian by optimHess; SE(log scale) = sqrt(diag(2 H^-1)).
#  (c) optim, the same for the log model (OFV = sum(log(2 pi s^2) + (log y - log f)^2/s^2) + 2 sum(log y)).

d <- read.csv("r_oracle_input.csv")

conc2 <- function(t, dose, tinf, lCL, lV1, lQ, lV2) {
  CL <- exp(lCL); V1 <- exp(lV1); Q <- exp(lQ); V2 <- exp(lV2)
  k10 <- CL / V1; k12 <- Q / V1; k21 <- Q / V2
  s <- k10 + k12 + k21
  root <- sqrt(s^2 - 4 * k10 * k21)
  alpha <- (s + root) / 2; beta <- (s - root) / 2
  A <- (alpha - k21) / (V1 * (alpha - beta)); B <- (k21 - beta) / (V1 * (alpha - beta))
  rate <- 1000 * dose / tinf
  tm <- pmin(t, tinf); after <- pmax(t - tinf, 0)
  rate * (A / alpha * (1 - exp(-alpha * tm)) * exp(-alpha * after) +
          B / beta * (1 - exp(-beta * tm)) * exp(-beta * after))
}

start <- c(lCL = log(0.8), lV1 = log(40), lQ = log(1.2), lV2 = log(40))
rows <- list(); timing <- list()
for (id in unique(d$ID)) {
  x <- d[d$ID == id, ]
  t0 <- proc.time()[["elapsed"]]
  fit <- nls(log(CONC) ~ log(conc2(TIME, DOSE, TINF, lCL, lV1, lQ, lV2)), data = x, start = as.list(start),
             control = nls.control(maxiter = 500, tol = 1e-6, minFactor = 1e-12))
  t_nls <- proc.time()[["elapsed"]] - t0
  cf <- coef(fit); se <- sqrt(diag(vcov(fit)))
  rows[[length(rows) + 1]] <- data.frame(ID = id, method = "nls_ltbs", parameter = names(cf), estimate = unname(cf),
                                         se = unname(se), objective = sum(resid(fit)^2), n = nrow(x))
  for (err in c("proportional", "log")) {
    ofv <- function(p) {
      f <- conc2(x$TIME, x$DOSE, x$TINF, p[1], p[2], p[3], p[4]); s <- exp(p[5])
      if (err == "proportional") sum(log(2 * pi * (s * f)^2) + ((x$CONC - f) / (s * f))^2)
      else sum(log(2 * pi * s^2) + (log(x$CONC) - log(f))^2 / s^2) + 2 * sum(log(x$CONC))
    }
    p0 <- c(cf, lsigma = log(sqrt(mean(resid(fit)^2))))
    t0 <- proc.time()[["elapsed"]]
    o <- optim(p0, ofv, method = "BFGS", control = list(reltol = 1e-16, maxit = 10000, ndeps = rep(1e-6, 5)))
    for (k in 1:3) o <- optim(o$par, ofv, method = "BFGS",
                              control = list(reltol = 1e-16, maxit = 10000, ndeps = rep(1e-6, 5)))
    t_opt <- proc.time()[["elapsed"]] - t0
    H <- optimHess(o$par, ofv, control = list(ndeps = rep(1e-4, 5)))
    se <- sqrt(diag(2 * solve(H)))
    rows[[length(rows) + 1]] <- data.frame(ID = id, method = paste0("optim_", err), parameter = names(o$par),
                                           estimate = unname(o$par), se = unname(se), objective = o$value,
                                           n = nrow(x))
    timing[[length(timing) + 1]] <- data.frame(ID = id, method = paste0("optim_", err), seconds = t_opt)
  }
  timing[[length(timing) + 1]] <- data.frame(ID = id, method = "nls_ltbs", seconds = t_nls)
}
out <- do.call(rbind, rows)
write.csv(out, "r_oracle_2cmt.csv", row.names = FALSE)
write.csv(do.call(rbind, timing), "r_oracle_timing.csv", row.names = FALSE)
writeLines(capture.output(sessionInfo()), "r_oracle_SESSION.txt")
print(out, digits = 12)
