# Reference values for trialnb.simulation (its batched Cox fits and log-rank statistics) from R's survival package (independent implementation).
#
#   Rscript tests/reference/simulation_coxph.R [OUTPUT.json]   (inputs: the committed simulation_coxph.json)
#
# Reads the data sets stored under "inputs" (each: time, event, X as a list of columns, group)
# and, for each, fits coxph(Surv(time, event) ~ X, ties = "efron") converged tightly
# (eps 1e-12) -> coef, se, log-likelihood, iterations; and survdiff(Surv(time, event) ~ group)
# -> log-rank chi-square (1 df), observed and expected deaths in group 1.
# Writes the inputs and the results as JSON (jsonlite, 15 significant digits).
# Run from the repository root.
suppressPackageStartupMessages({library(survival); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
if (length(args) > 1) stop("usage: Rscript tests/reference/simulation_coxph.R [OUTPUT.json]")
inp <- "tests/reference/simulation_coxph.json"  # the inputs stored next to the script (written by the Python side)
out <- if (length(args) == 1) args[1] else inp
src <- fromJSON(inp, simplifyVector = TRUE, simplifyMatrix = FALSE)

results <- list()
for (nm in names(src$inputs)) {
  d <- src$inputs[[nm]]
  X <- do.call(cbind, d$X)
  fit <- coxph(Surv(d$time, d$event) ~ X, ties = "efron",
               control = coxph.control(eps = 1e-12, toler.chol = 1e-13, iter.max = 100))
  lr <- survdiff(Surv(d$time, d$event) ~ d$group)
  results[[nm]] <- list(
    coef = unname(coef(fit)), se = unname(sqrt(diag(fit$var))),
    loglik = unname(fit$loglik[2]), iterations = fit$iter,
    logrank_chisq = unname(lr$chisq), observed_1 = unname(lr$obs[2]), expected_1 = unname(lr$exp[2])
  )
}
vals <- unlist(results)
if (length(vals) == 0 || any(is.na(vals))) stop("empty or NA result(s), nothing written")
res <- list(
  generator = "tests/reference/simulation_coxph.R",
  r_version = paste(R.version$major, R.version$minor, sep = "."),
  survival_version = as.character(packageVersion("survival")),
  inputs = src$inputs,
  results = results
)
writeLines(toJSON(res, digits = I(15), auto_unbox = TRUE, pretty = FALSE), out)
