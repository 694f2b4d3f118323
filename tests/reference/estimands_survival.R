# Reference values for trialnb.analysis_estimands / trialnb.survival_weighted from R's survival
# package (independent implementation).
#
#   Rscript tests/reference/estimands_survival.R [OUTPUT.json]
#
# Generates three two-arm data sets (set.seed; "delayed": 236 patients, continuous times, arm A's
# hazard ratio 0.5 only after 6 months; "ties": times in whole months with a mass of censorings
# at 24; "small": 40 patients) with columns time, event, arm (1 = A), strata (3 levels) and
# writes, for each:
#   logrank    survdiff(Surv(time, event) ~ arm [+ strata(strata)], rho = 0 and 1) -> chisq,
#              O - E of arm A summed over strata, and its variance;
#   rmst       summary(survfit(Surv(time, event) ~ arm), rmean = 24)$table -> rmean, se(rmean)
#              per arm;
#   milestone  summary(survfit(Surv(time, event) ~ arm), times = 24) -> surv and std.err
#              (Greenwood) per arm.
# Output (default tests/reference/estimands_survival.json): inputs and results via jsonlite
# with 15 significant digits. Stops, writing nothing, if any value is missing. Run from the
# repository root.
suppressPackageStartupMessages({library(survival); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
if (length(args) > 1) stop("usage: Rscript tests/reference/estimands_survival.R [OUTPUT.json]")
out <- if (length(args) >= 1) args[1] else "tests/reference/estimands_survival.json"

make_data <- function(kind, n, seed) {
  set.seed(seed)
  arm <- as.numeric(runif(n) < 0.5)
  lam <- -log(0.6) / 24
  e1 <- rexp(n)
  # hazard lam before 6 months; lam * 0.5 after for arm A (delayed benefit)
  h6 <- lam * 6
  hr <- ifelse(arm == 1, 0.5, 1)
  t <- ifelse(e1 < h6, e1 / lam, 6 + (e1 - h6) / (lam * hr))
  cens <- pmin(rexp(n, -log(0.9) / 24), runif(n, 24, 60))
  time <- pmin(t, cens)
  event <- as.numeric(t <= cens)
  if (kind == "ties") {
    time <- pmax(ceiling(time), 1)
    time[event == 0 & time > 24 & runif(n) < 0.5] <- 24
  } else {
    time <- round(time, 6)
  }
  list(time = time, event = event, arm = arm, strata = sample(1:3, n, replace = TRUE))
}

inputs <- list(delayed = make_data("delayed", 236, 21), ties = make_data("ties", 236, 22),
               small = make_data("small", 40, 23))

need <- function(x, what) {
  if (length(x) == 0 || any(!is.finite(x))) stop(paste("missing or non-finite result:", what))
  unname(x)
}

results <- list()
for (nm in names(inputs)) {
  d <- as.data.frame(inputs[[nm]])
  lr <- list()
  for (rho in c(0, 1)) for (st in c("none", "strata")) {
    f <- if (st == "none") Surv(time, event) ~ arm else Surv(time, event) ~ arm + strata(strata)
    s <- survdiff(f, data = d, rho = rho)
    oe <- if (is.matrix(s$obs)) sum(s$obs[2, ] - s$exp[2, ]) else s$obs[2] - s$exp[2]
    v <- if (is.matrix(s$var)) s$var[2, 2] else s$var[2, 2]
    lr[[paste0("rho", rho, "_", st)]] <- list(chisq = need(s$chisq, "chisq"), oe = need(oe, "oe"),
                                              var = need(v, "var"))
  }
  fit <- survfit(Surv(time, event) ~ arm, data = d)
  tab <- summary(fit, rmean = 24)$table
  # rows "arm=0", "arm=1"
  rm <- list(rmean_a = need(tab["arm=1", "rmean"], "rmean A"), se_a = need(tab["arm=1", "se(rmean)"], "se A"),
             rmean_b = need(tab["arm=0", "rmean"], "rmean B"), se_b = need(tab["arm=0", "se(rmean)"], "se B"))
  sm <- summary(fit, times = 24)
  k <- setNames(seq_along(sm$strata), as.character(sm$strata))
  ms <- list(surv_a = need(sm$surv[k["arm=1"]], "S A"), se_a = need(sm$std.err[k["arm=1"]], "SE A"),
             surv_b = need(sm$surv[k["arm=0"]], "S B"), se_b = need(sm$std.err[k["arm=0"]], "SE B"))
  results[[nm]] <- list(logrank = lr, rmst = rm, milestone = ms)
}

write(toJSON(list(inputs = inputs, results = results), digits = I(15), auto_unbox = TRUE, pretty = TRUE), out)
