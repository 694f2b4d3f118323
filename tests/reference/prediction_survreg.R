# Reference values for trialnb.monitoring.prediction (the next-look prediction's death-time
# models) from R's survival package (independent implementation).
#
#   Rscript tests/reference/prediction_survreg.R [OUTPUT.json]
#
# Generates three cut trials (set.seed): 236 patients entering uniformly over 36 months, arms
# 1:1, exponential deaths with control 2-year survival 0.6 and hazard ratio 0.5 (pooled over
# arms, as the blinded prediction sees them), exponential drop-out (10% by 2 years), cut at
# calendar months 12 ("early"), 20 ("middle") and 28.5 ("late") by the rule of the interim cut
# (follow-up min(time, cut - entry), a death only if it happened by the cut; patients entered
# later dropped), follow-up rounded to 0.01 month and truncated at 24 months (the primary
# endpoint). For each writes the inputs (time, event) and:
#   exponential  survreg(Surv(time, event) ~ 1, dist = "exponential") -> rate exp(-coef),
#                log-likelihood;
#   weibull      survreg(..., dist = "weibull") -> shape 1/scale, scale exp(coef),
#                log-likelihood, and vcov of (intercept, log(scale));
#   piecewise    survSplit at 6 and 12 months, glm(event ~ 0 + interval + offset(log(exposure)),
#                family = poisson) -> the hazard of each piece (exp(coef)).
# Output (default tests/reference/prediction_survreg.json) via jsonlite with 15 significant
# digits. Stops, writing nothing, if any value is missing. Run from the repository root.
suppressPackageStartupMessages({library(survival); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
if (length(args) > 1) stop("usage: Rscript tests/reference/prediction_survreg.R [OUTPUT.json]")
out <- if (length(args) == 1) args[1] else "tests/reference/prediction_survreg.json"

make_cut <- function(cutoff, seed) {
  set.seed(seed)
  n <- 236
  entry <- round(sort(runif(n, 0, 36)), 2)
  arm <- as.numeric(runif(n) < 0.5)
  lam <- -log(0.6) / 24 * ifelse(arm == 1, 0.5, 1)
  t_death <- rexp(n, lam)
  t_loss <- rexp(n, -log(0.9) / 24)
  keep <- entry <= cutoff
  entry <- entry[keep]; t_death <- t_death[keep]; t_loss <- t_loss[keep]
  event <- as.numeric(t_death <= t_loss & entry + t_death <= cutoff)
  time <- round(pmin(t_death, t_loss, cutoff - entry), 2)
  primary <- as.numeric(event == 1 & time <= 24)
  time <- pmin(time, 24)
  ok <- time > 0  # a patient entered at the cut-off has no follow-up (survreg needs time > 0)
  list(time = time[ok], event = primary[ok])
}

need <- function(x, what) {
  if (length(x) == 0 || any(!is.finite(x))) stop("empty or NA result: ", what, " - nothing written")
  unname(x)
}

inputs <- list(early = make_cut(12, 41), middle = make_cut(20, 42), late = make_cut(28.5, 43))
results <- list()
for (nm in names(inputs)) {
  d <- as.data.frame(inputs[[nm]])
  ex <- survreg(Surv(time, event) ~ 1, data = d, dist = "exponential")
  wb <- survreg(Surv(time, event) ~ 1, data = d, dist = "weibull",
                control = survreg.control(rel.tolerance = 1e-12, maxiter = 100))
  d$id <- seq_len(nrow(d))
  sp <- survSplit(Surv(time, event) ~ id, data = d, cut = c(6, 12), episode = "interval")
  sp$exposure <- sp$time - sp$tstart
  sp <- sp[sp$exposure > 0, ]
  pw <- glm(event ~ 0 + factor(interval) + offset(log(exposure)), data = sp, family = poisson,
            control = glm.control(epsilon = 1e-14, maxit = 100))
  results[[nm]] <- list(
    exponential = list(rate = need(exp(-coef(ex)), "rate"), loglik = need(ex$loglik[2], "loglik exp")),
    weibull = list(shape = need(1 / wb$scale, "shape"), scale = need(exp(coef(wb)), "scale"),
                   loglik = need(wb$loglik[2], "loglik weibull"), vcov = need(as.vector(vcov(wb)), "vcov")),
    piecewise = list(hazards = need(exp(coef(pw)), "piecewise hazards"))
  )
}

write(toJSON(list(inputs = inputs, results = results), digits = I(15), auto_unbox = TRUE, pretty = TRUE), out)
