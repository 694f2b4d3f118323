# Reference values for trialnb.survival.competing from R's cmprsk package (Gray's own code).
#
#   Rscript tests/reference/cmprsk_reference.R [OUTPUT.json]
#
# One optional argument, the output path (default tests/reference/cmprsk_reference.json); run
# from the repository root. Competing-risks data: time, status (0 censored, 1 and 2 the causes),
# group, strata and two covariates. Inputs:
#   "hand_ties"  20 rows written out below: times tied within and across causes and with
#                censorings, a group whose last time is an event, two groups, two strata;
#   "simulated"  120 rows (set.seed(2022)): whole-month times (many ties), three groups, two
#                strata, a binary and a normal covariate;
#   the shipped trials data/trial_*.csv, for two endpoints with death as the competing event:
#                "unplanned_therapy" (time to the first unplanned local therapy) and
#                "locoregional" (time to locoregional progression): status 1 at the event's
#                month, else 2 at os_months if death = 1, else 0 at os_months; group = arm,
#                strata = the 12 combinations of the minimization factors, covariates arm A and
#                the factors' treatment contrasts (trialnb.analysis.COX_COVARIATES).
# For each: cuminc(time, status, group) -> every curve (time, est, var as cuminc returns them)
# and timepoints() at fixed months; Gray's test unstratified, with strata, and with the weight
# (1 - F(t-))^rho at rho = 1 (stat, p); crr of
# cause 1 (and of cause 2 for the first two inputs) on the covariates, converged tightly
# (gtol 1e-10, maxiter 100) -> coef, var, loglik, loglik.null, converged.
# Writes JSON (jsonlite, 15 significant digits). If any value is empty or NA the script stops
# with an error and writes nothing.
suppressPackageStartupMessages({library(cmprsk); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
if (length(args) > 1) stop("usage: Rscript tests/reference/cmprsk_reference.R [OUTPUT.json]")
out <- if (length(args) == 1) args[1] else "tests/reference/cmprsk_reference.json"
data_dir <- "data"

hand <- data.frame(
  time   = c(1, 1, 1, 2, 2, 3, 3, 3, 4, 5, 1, 2, 2, 2, 3, 4, 4, 5, 6, 6),
  status = c(1, 2, 0, 1, 1, 2, 0, 1, 0, 2, 1, 1, 2, 0, 2, 1, 1, 0, 2, 1),
  group  = c("a", "a", "a", "a", "a", "a", "a", "a", "a", "a", "b", "b", "b", "b", "b", "b", "b", "b", "b", "b"),
  strata = c(1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1),
  x1     = c(0, 1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 0, 1, 1, 0, 0, 1, 1, 0, 1),
  x2     = c(0.5, -1.2, 0.3, 2.0, -0.7, 0.1, 1.1, -0.4, 0.9, -1.5, 0.2, 0.8, -0.3, 1.4, -0.9, 0.6, -1.1, 0.0, 1.7, -0.2))

set.seed(2022)
n <- 120
simulated <- data.frame(time = ceiling(rexp(n, 1 / 8)),
                        status = sample(0:2, n, replace = TRUE, prob = c(0.3, 0.4, 0.3)),
                        group = sample(c("a", "b", "c"), n, replace = TRUE),
                        strata = sample(1:2, n, replace = TRUE),
                        x1 = rbinom(n, 1, 0.5), x2 = round(rnorm(n), 2))

curves <- function(ci) {
  keep <- names(ci)[names(ci) != "Tests"]
  lapply(setNames(keep, keep), function(k) list(time = ci[[k]]$time, est = ci[[k]]$est, var = ci[[k]]$var))
}

tests <- function(ci) {
  t <- ci$Tests
  lapply(setNames(rownames(t), rownames(t)), function(k) list(stat = unname(t[k, "stat"]), p = unname(t[k, "pv"]),
                                                             df = unname(t[k, "df"])))
}

fg <- function(time, status, X, cause) {
  f <- crr(time, status, X, failcode = cause, gtol = 1e-10, maxiter = 100)
  list(coef = unname(f$coef), var = unname(f$var), loglik = f$loglik, loglik_null = f$loglik.null,
       converged = f$converged)
}

analyse <- function(d, times, X, causes) {
  ci <- cuminc(d$time, d$status, d$group)
  tp <- timepoints(ci, times)
  list(curves = curves(ci),
       timepoints = list(times = times, rows = rownames(tp$est), est = unname(tp$est), var = unname(tp$var)),
       gray = tests(ci), gray_strata = tests(cuminc(d$time, d$status, d$group, d$strata)),
       gray_rho1 = tests(cuminc(d$time, d$status, d$group, rho = 1)),
       crr = lapply(setNames(causes, paste0("cause_", causes)), function(k) fg(d$time, d$status, X, k)))
}

trial_endpoint <- function(path, month_col) {
  d <- read.csv(path, stringsAsFactors = FALSE, na.strings = "")
  m <- d[[month_col]]
  time <- ifelse(is.na(m), d$os_months, m)
  status <- ifelse(is.na(m), ifelse(d$death == 1, 2, 0), 1)
  X <- cbind(arm_A = as.numeric(d$arm == "A"), dominant_site_soft_tissue = as.numeric(d$dominant_site == "soft_tissue"),
             dominant_site_visceral = as.numeric(d$dominant_site == "visceral"),
             hormone_receptor_negative = as.numeric(d$hormone_receptor == "negative"),
             her2_positive = as.numeric(d$her2 == "positive"))
  dd <- data.frame(time = time, status = status, group = d$arm,
                   strata = paste(d$dominant_site, d$hormone_receptor, d$her2, sep = "|"))
  analyse(dd, c(12, 24, 36, 48), X, 1)
}

files <- sort(Sys.glob(file.path(data_dir, "trial_*.csv")))
if (length(files) == 0) stop("no data/trial_*.csv found (run from the repository root); nothing written")
results <- list(
  hand_ties = analyse(hand, c(0.5, 1, 2, 3.5, 5, 6), cbind(hand$x1, hand$x2), 1:2),
  simulated = analyse(simulated, c(2, 5, 10, 20, 40), cbind(simulated$x1, simulated$x2), 1:2))
for (f in files) {
  nm <- sub("\\.csv$", "", basename(f))
  results[[nm]] <- list(unplanned_therapy = trial_endpoint(f, "unplanned_local_therapy_month"),
                        locoregional = trial_endpoint(f, "locoregional_progression_month"))
}
res <- list(software = paste0("R ", R.version$major, ".", R.version$minor, ", cmprsk ",
                              as.character(packageVersion("cmprsk"))),
            inputs = list(hand_ties = as.list(hand), simulated = as.list(simulated)),
            results = results)
# timepoints() is NA beyond a group's last follow-up, by design; every other value must exist
drop_tp <- function(x) if (is.list(x)) lapply(x[names(x) != "timepoints"], drop_tp) else x
vals <- unlist(drop_tp(res$results))
if (length(vals) == 0 || any(is.na(vals)) || any(!nzchar(vals)))
  stop("empty or NA result(s), nothing written: ", paste(head(names(vals)[is.na(vals) | !nzchar(vals)]), collapse = ", "))
writeLines(toJSON(res, auto_unbox = TRUE, digits = I(15), pretty = TRUE, na = "null"), out)
