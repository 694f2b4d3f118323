# Reference values for trialnb.survival.weighted and trialnb.analysis.hypothetical_no_surgery from
# R's survival package and glm (an independent implementation of every step).
#
#   Rscript tests/reference/ipcw_survival.R [OUTPUT.json]
#
# One optional argument, the output path (default tests/reference/ipcw_survival.json); run from
# the repository root. Two parts:
#   "engine"   a simulated data set (set.seed(11), 80 patients, follow-up split at month 4 into
#              (start, stop] rows, weight 1 before and 1 + z^2 / 2 after, ties in time):
#              survfit(Surv(start, stop, event) ~ 1, weights, id, robust = TRUE) -> survival and
#              robust SE at months 3, 6, 10; coxph(Surv(start, stop, event) ~ x + z, weights,
#              cluster = id, ties = "breslow") -> coef, robust var, log-likelihood;
#   "trials"   for each shipped trial data/trial_*.csv, the hypothetical strategy for arm-B surgery
#              (trialnb.analysis.hypothetical_no_surgery): follow-up censored at 24 months (the
#              primary endpoint); an arm-B patient operated before the end of follow-up is
#              censored at the operation; the probability of being operated at each distinct
#              surgery month among the arm-B patients still at risk is a logistic regression
#              with one intercept per month and the minimization factors (glm, binomial);
#              stabilized weights K(a) / K(a | z) on (a, b] rows split at the surgery months
#              (K the Kaplan-Meier of surgery); then the weighted Kaplan-Meier at 24 months per
#              arm with robust SEs and the weighted Cox model arm + factors (Breslow ties,
#              robust variance clustered by patient); and the same without weights (naive).
# Writes JSON (jsonlite, 15 significant digits). If any value is empty or NA the script stops
# with an error and writes nothing.
suppressPackageStartupMessages({library(survival); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
if (length(args) > 1) stop("usage: Rscript tests/reference/ipcw_survival.R [OUTPUT.json]")
out <- if (length(args) == 1) args[1] else "tests/reference/ipcw_survival.json"
data_dir <- "data"
HORIZON <- 24

# ---- engine
set.seed(11)
n <- 80
d <- data.frame(id = 1:n, x = rbinom(n, 1, 0.5), z = round(rnorm(n), 2))
d$time <- round(rexp(n, exp(-0.5 * d$x + 0.3 * d$z) / 10), 0) + 1
d$event <- rbinom(n, 1, 0.75)
s <- survSplit(Surv(time, event) ~ ., data = d, cut = 4, start = "start", end = "stop")
s$w <- ifelse(s$start >= 4, 1 + s$z^2 / 2, 1)
km <- summary(survfit(Surv(start, stop, event) ~ 1, data = s, weights = w, id = id, robust = TRUE),
              times = c(3, 6, 10))
fit <- coxph(Surv(start, stop, event) ~ x + z, data = s, weights = w, cluster = id, ties = "breslow",
             control = coxph.control(eps = 1e-10, iter.max = 100))
engine <- list(inputs = list(start = s$start, stop = s$stop, event = s$event, w = s$w, id = s$id, x = s$x, z = s$z),
               km = list(times = c(3, 6, 10), surv = km$surv, se = km$std.err),
               cox = list(coef = unname(coef(fit)), var = unname(fit$var), loglik = unname(fit$loglik)))

# ---- the shipped trials
factors <- function(d) cbind(soft = as.numeric(d$dominant_site == "soft_tissue"),
                             visc = as.numeric(d$dominant_site == "visceral"),
                             hrneg = as.numeric(d$hormone_receptor == "negative"),
                             her2 = as.numeric(d$her2 == "positive"))

one <- function(path) {
  d <- read.csv(path, stringsAsFactors = FALSE, na.strings = "")
  late <- d$os_months > HORIZON
  d$death[late] <- 0
  d$os_months[late] <- HORIZON
  d$id <- seq_len(nrow(d))
  Z <- factors(d)
  b <- d$arm == "B"
  cens <- b & d$operated == 1 & !is.na(d$surgery_month) & d$surgery_month < d$os_months
  c_obs <- ifelse(cens, d$surgery_month, d$os_months)
  jumps <- sort(unique(d$surgery_month[cens]))
  # the discrete logistic model of surgery among arm-B patients at risk at each surgery month
  long <- do.call(rbind, lapply(seq_along(jumps), function(k) {
    r <- which(b & c_obs >= jumps[k])
    data.frame(k = k, i = r, y = as.numeric(cens[r] & d$surgery_month[r] == jumps[k]))
  }))
  long <- cbind(long, Z[long$i, , drop = FALSE])
  keep <- colnames(Z)[apply(Z[b, , drop = FALSE], 2, function(v) length(unique(v)) > 1)]
  f <- as.formula(paste("y ~ 0 + factor(k)", paste(c("", keep), collapse = " + ")))
  g <- suppressWarnings(glm(f, family = binomial, data = long,
                            control = glm.control(epsilon = 1e-14, maxit = 100)))
  a <- unname(coef(g)[seq_along(jumps)])
  gam <- setNames(rep(0, ncol(Z)), colnames(Z))
  gam[keep] <- coef(g)[keep]
  gam[is.na(gam)] <- 0
  h <- plogis(outer(a, rep(1, nrow(d))) + outer(rep(1, length(jumps)), as.vector(Z %*% gam)))
  Kz <- apply(1 - h, 2, cumprod)
  if (length(jumps) == 1) Kz <- matrix(Kz, nrow = 1)
  nk <- sapply(jumps, function(s) sum(b & c_obs >= s))
  ek <- sapply(jumps, function(s) sum(cens & d$surgery_month == s))
  K <- cumprod(1 - ek / nk)
  d$stop_time <- ifelse(cens, d$surgery_month, d$os_months)
  d$ev <- ifelse(cens, 0, d$death)
  sp <- survSplit(Surv(stop_time, ev) ~ ., data = d, cut = jumps, start = "start", end = "stop")
  k_idx <- findInterval(sp$start, jumps)  # last surgery month <= start (0: before the first)
  sp$w <- ifelse(sp$arm == "B" & k_idx > 0, K[pmax(k_idx, 1)] / Kz[cbind(pmax(k_idx, 1), sp$id)], 1)
  sp$armA <- as.numeric(sp$arm == "A")
  Zs <- factors(sp)
  res <- list(censored = sum(cens), weight_min = min(sp$w[sp$arm == "B"]), weight_max = max(sp$w[sp$arm == "B"]))
  for (kind in c("ipcw", "naive")) {
    wt <- if (kind == "ipcw") sp$w else rep(1, nrow(sp))
    km <- summary(survfit(Surv(start, stop, ev) ~ armA, data = sp, weights = wt, id = id, robust = TRUE),
                  times = HORIZON)
    cx <- coxph(Surv(start, stop, ev) ~ armA + Zs, data = sp, weights = wt, cluster = id, ties = "breslow",
                control = coxph.control(eps = 1e-10, iter.max = 100))
    res[[kind]] <- list(surv_b = km$surv[1], se_b = km$std.err[1], surv_a = km$surv[2], se_a = km$std.err[2],
                        coef = unname(coef(cx)), se = unname(sqrt(diag(cx$var))))
  }
  res
}

files <- sort(Sys.glob(file.path(data_dir, "trial_*.csv")))
if (length(files) == 0) stop("no data/trial_*.csv found (run from the repository root); nothing written")
trials <- setNames(lapply(files, function(f) tryCatch(one(f), error = function(e)
  stop("no result for ", f, " (", conditionMessage(e), "); nothing written", call. = FALSE))),
  sub("\\.csv$", "", basename(files)))
res <- list(software = paste0("R ", R.version$major, ".", R.version$minor, ", survival ",
                              as.character(packageVersion("survival"))),
            horizon = HORIZON, engine = engine, trials = trials)
vals <- unlist(list(res$engine, res$trials))
if (length(vals) == 0 || any(is.na(vals)) || any(!nzchar(vals)))
  stop("empty or NA result(s), nothing written: ", paste(head(names(vals)[is.na(vals) | !nzchar(vals)]), collapse = ", "))
writeLines(toJSON(res, auto_unbox = TRUE, digits = I(15), pretty = TRUE), out)
