# Reference values for trialnb.survival from R's survival package (independent implementation).
#
#   Rscript tests/reference/survival_engine.R [OUTPUT.json]
#
# Generates three data sets (set.seed; "continuous", "heavy_ties": whole months with a mass of
# censorings at month 12 and integer entry times equal to death times, "small": 40 rows) with
# columns time, event, entry (< time), strata (3 levels), group (0/1) and covariates X
# (arm, a normal covariate, a binary covariate), and writes, for each:
#   cox      coxph for every combination of ties (efron, breslow) x entry (none: Surv(time, event);
#            entry: Surv(entry, time, event)) x strata (none, + strata(strata)), converged tightly
#            (eps 1e-12) -> coef, se, log-likelihood at the estimate and at 0, iterations,
#            converged (iter <= iter.max) and the variables R flags "Loglik converged before
#            variable k; coefficient may be infinite" (captured warning; 1-based indices);
#   logrank  survdiff(Surv(time, event) ~ group [+ strata(strata)], rho = 0 and 1) -> chisq,
#            observed and expected deaths of group 1 (summed over strata) and the variance;
#   rmst     summary(survfit(Surv(time, event) ~ 1), rmean = tau) -> rmean and se(rmean).
# Two more data sets have a monotone likelihood (Bryson & Johnson 1981): "no_death_level" (the
# "continuous" data with no death where the binary covariate is 1) and "no_death_arm" (no death
# in arm 1); for them only `cox` is computed, with R's default control (eps 1e-9, iter.max 20:
# the flags and the stopping point depend on it).
# The output (default tests/reference/survival_engine.json) holds the inputs and the results,
# via jsonlite with 15 significant digits. Stops, writing nothing, if any value is missing.
# Run from the repository root.
suppressPackageStartupMessages({library(survival); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
if (length(args) > 1) stop("usage: Rscript tests/reference/survival_engine.R [OUTPUT.json]")
out <- if (length(args) >= 1) args[1] else "tests/reference/survival_engine.json"

make_data <- function(kind, n, seed) {
  set.seed(seed)
  arm <- as.numeric(runif(n) < 0.5)
  xc <- round(rnorm(n), 6)
  xb <- as.numeric(runif(n) < 0.3)
  lp <- -0.6 * arm + 0.4 * xc + 0.5 * xb
  t <- rexp(n, rate = exp(lp) / 12)
  cens <- runif(n, 5, 40)
  time <- pmin(t, cens)
  event <- as.numeric(t <= cens)
  strata <- sample(1:3, n, replace = TRUE)
  if (kind == "heavy_ties") {
    time <- ceiling(time)
    time[runif(n) < 0.2 & time > 12] <- 12
    entry <- floor(runif(n) * time)
  } else {
    time <- round(time, 6)
    entry <- round(runif(n) * 0.6 * time, 6)
  }
  list(time = time, event = event, entry = entry, strata = strata, group = arm,
       X = list(arm, xc, xb))
}

inputs <- list(continuous = make_data("continuous", 150, 11),
               heavy_ties = make_data("heavy_ties", 150, 12),
               small = make_data("small", 40, 13))
monotone <- function(d, col) { d$event[d$X[[col]] == 1] <- 0; d }
inputs$no_death_level <- monotone(inputs$continuous, 3)
inputs$no_death_arm <- monotone(inputs$continuous, 1)
MONOTONE <- c("no_death_level", "no_death_arm")

ctl_tight <- coxph.control(eps = 1e-12, toler.chol = 1e-13, iter.max = 100)
ctl_default <- coxph.control()
# coxph with the "may be infinite" warning captured: which variables (1-based) R flagged
fit_flagged <- function(expr) {
  flagged <- integer(0)
  fit <- withCallingHandlers(expr, warning = function(w) {
    m <- regmatches(conditionMessage(w), regexec("converged before variable +([0-9,]+)", conditionMessage(w)))[[1]]
    if (length(m) == 2) {
      flagged <<- as.integer(strsplit(m[2], ",")[[1]])
      invokeRestart("muffleWarning")
    }
  })
  list(fit = fit, flagged = flagged)
}
need <- function(x, what) {
  if (length(x) == 0 || any(!is.finite(x))) stop(paste("missing or non-finite result:", what))
  unname(x)
}

results <- list()
for (nm in names(inputs)) {
  d <- inputs[[nm]]
  X <- do.call(cbind, d$X)
  ctl <- if (nm %in% MONOTONE) ctl_default else ctl_tight
  cox <- list()
  for (ties in c("efron", "breslow")) for (en in c("none", "entry")) for (st in c("none", "strata")) {
    y <- if (en == "entry") Surv(d$entry, d$time, d$event) else Surv(d$time, d$event)
    ff <- fit_flagged(if (st == "strata") coxph(y ~ X + strata(d$strata), ties = ties, control = ctl)
                      else coxph(y ~ X, ties = ties, control = ctl))
    fit <- ff$fit
    key <- paste(ties, en, st, sep = "|")
    cox[[key]] <- list(coef = need(coef(fit), key), se = need(sqrt(diag(fit$var)), key),
                       loglik = need(fit$loglik[2], key), loglik_null = need(fit$loglik[1], key),
                       iter = fit$iter, converged = fit$iter <= ctl$iter.max,
                       infinite = I(ff$flagged))
  }
  if (nm %in% MONOTONE) {
    if (!any(sapply(cox, function(z) length(z$infinite) > 0))) stop(paste("no infinite flag in", nm))
    results[[nm]] <- list(cox = cox)
    next
  }
  lr <- list()
  for (rho in c(0, 1)) for (st in c("none", "strata")) {
    sd <- if (st == "strata") survdiff(Surv(d$time, d$event) ~ d$group + strata(d$strata), rho = rho)
          else survdiff(Surv(d$time, d$event) ~ d$group, rho = rho)
    obs <- if (is.matrix(sd$obs)) rowSums(sd$obs) else sd$obs
    ex <- if (is.matrix(sd$exp)) rowSums(sd$exp) else sd$exp
    key <- paste0("rho", rho, "|", st)
    lr[[key]] <- list(chisq = need(sd$chisq, key), observed_1 = need(obs[2], key),
                      expected_1 = need(ex[2], key), variance = need(sd$var[2, 2], key))
  }
  km <- survfit(Surv(d$time, d$event) ~ 1)
  taus <- c(6, 12, 24, max(d$time) + 5)
  rm <- lapply(taus, function(tau) {
    tab <- summary(km, rmean = tau)$table
    list(tau = tau, rmean = need(tab[["rmean"]], "rmean"), se = need(tab[["se(rmean)"]], "se(rmean)"))
  })
  results[[nm]] <- list(cox = cox, logrank = lr, rmst = rm)
}

res <- list(
  generator = "tests/reference/survival_engine.R",
  r_version = paste(R.version$major, R.version$minor, sep = "."),
  survival_version = as.character(packageVersion("survival")),
  inputs = inputs,
  results = results
)
writeLines(toJSON(res, digits = I(15), auto_unbox = TRUE, pretty = FALSE), out)
