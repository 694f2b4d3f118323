# Reference values for trialnb.analysis from R's survival package (independent implementation).
#
#   Rscript tests/reference/survival_coxph.R [OUTPUT.json]
#
# One optional argument, the output path (default tests/reference/survival_coxph.json); run
# from the repository root; the inputs are the committed files data/trial_*.csv. If any
# expected value is empty or NA the script stops with an error and writes nothing.
#
# The primary analysis (trialnb.protocol.PRIMARY_ANALYSIS): death within 24 months, i.e.
# follow-up censored at PRIMARY_CENSOR_MONTHS = 24 months after randomization (a death after
# month 24 becomes a censoring at 24). The secondary overall-survival analysis
# (trialnb.protocol.OS_ANALYSIS) uses all follow-up.
#
# For each shipped trial file data/trial_<scenario>.csv:
#   - primary ("cox", "loglik"): coxph(Surv(os_months, death) ~ arm + dominant_site +
#     hormone_receptor + her2, ties = "efron") on the data censored at 24 months, with reference
#     levels arm B, bone, receptor positive, HER2 negative (treatment contrasts), converged
#     tightly (eps 1e-10) -> coef, se, HR, 95% Wald CI, Wald p, log-likelihood;
#   - secondary ("cox_os", "loglik_os"): the same model on all follow-up;
#   - survfit per arm: Kaplan-Meier survival at 24 months and its Greenwood standard error;
#   - survdiff: log-rank chi-square (1 df), p, observed and expected deaths per arm, on all
#     follow-up ("logrank") and within 24 months ("logrank_24");
#   - cox.zph (transform = "km") of the primary model: chi-square and p per term and global;
#   - per-protocol, naive as-treated and time-varying as-treated Cox models (populations),
#     within 24 months like the primary.
# And interim data cuts of data/trial_protocol.csv ("cuts", trialnb.analysis.cut_at): at calendar
# month c, patients randomized by c, follow-up round(c - entry, 2) (the data's 0.01-month
# precision: no floating-point near-ties), a death only if by c; then the primary model (Efron and
# Breslow ties) on deaths within 24 months.
# Writes JSON (jsonlite, 15 significant digits). Run from the repository root.
suppressPackageStartupMessages({library(survival); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
if (length(args) > 1) stop("usage: Rscript tests/reference/survival_coxph.R [OUTPUT.json]")
out <- if (length(args) == 1) args[1] else "tests/reference/survival_coxph.json"
data_dir <- "data"
PRIMARY_CENSOR_MONTHS <- 24  # trialnb.protocol.PRIMARY_ANALYSIS.censor_months

censor_at <- function(d, months) {
  late <- d$os_months > months
  d$death[late] <- 0
  d$os_months[late] <- months
  d
}

cox_terms <- function(fit, terms) {
  s <- summary(fit)
  co <- s$coefficients
  ci <- s$conf.int
  cox <- list()
  for (i in seq_along(terms)) {
    cox[[terms[i]]] <- list(coef = unname(co[i, "coef"]), se = unname(co[i, "se(coef)"]),
                            hr = unname(co[i, "exp(coef)"]), ci_lower = unname(ci[i, "lower .95"]),
                            ci_upper = unname(ci[i, "upper .95"]), p = unname(co[i, "Pr(>|z|)"]))
  }
  cox
}

logrank <- function(d) {
  lr <- survdiff(Surv(os_months, death) ~ arm, data = d)
  list(chisq = unname(lr$chisq), p = unname(1 - pchisq(lr$chisq, 1)),
       observed = list(B = unname(lr$obs[1]), A = unname(lr$obs[2])),
       expected = list(B = unname(lr$exp[1]), A = unname(lr$exp[2])))
}

one <- function(path) {
  d_all <- read.csv(path, stringsAsFactors = FALSE, na.strings = "")
  d <- censor_at(d_all, PRIMARY_CENSOR_MONTHS)
  d_all$arm <- factor(d_all$arm, levels = c("B", "A"))
  d_all$dominant_site <- factor(d_all$dominant_site, levels = c("bone", "soft_tissue", "visceral"))
  d_all$hormone_receptor <- factor(d_all$hormone_receptor, levels = c("positive", "negative"))
  d_all$her2 <- factor(d_all$her2, levels = c("negative", "positive"))
  d$arm <- factor(d$arm, levels = c("B", "A"))
  d$dominant_site <- factor(d$dominant_site, levels = c("bone", "soft_tissue", "visceral"))
  d$hormone_receptor <- factor(d$hormone_receptor, levels = c("positive", "negative"))
  d$her2 <- factor(d$her2, levels = c("negative", "positive"))
  fit <- coxph(Surv(os_months, death) ~ arm + dominant_site + hormone_receptor + her2, data = d,
               ties = "efron", control = coxph.control(eps = 1e-10, iter.max = 100))
  terms <- c("arm_A", "dominant_site_soft_tissue", "dominant_site_visceral",
             "hormone_receptor_negative", "her2_positive")
  cox <- cox_terms(fit, terms)
  fit_os <- coxph(Surv(os_months, death) ~ arm + dominant_site + hormone_receptor + her2, data = d_all,
                  ties = "efron", control = coxph.control(eps = 1e-10, iter.max = 100))
  km <- list()
  for (a in c("A", "B")) {
    sf <- survfit(Surv(os_months, death) ~ 1, data = d[d$arm == a, ], conf.type = "log-log")
    ss <- summary(sf, times = 24)
    km[[a]] <- list(survival = unname(ss$surv), se = unname(ss$std.err),
                    ci_lower = unname(ss$lower), ci_upper = unname(ss$upper))
  }
  # analysis populations (trialnb.analysis.population_comparison)
  ctl <- coxph.control(eps = 1e-10, iter.max = 100)
  arm_hr <- function(f, term) {
    s <- summary(f)
    list(hr = unname(s$conf.int[term, "exp(coef)"]), ci_lower = unname(s$conf.int[term, "lower .95"]),
         ci_upper = unname(s$conf.int[term, "upper .95"]), p = unname(s$coefficients[term, "Pr(>|z|)"]),
         n = f$n, events = f$nevent)
  }
  pp <- coxph(Surv(os_months, death) ~ arm + dominant_site + hormone_receptor + her2,
              data = d[d$per_protocol == 1, ], ties = "efron", control = ctl)
  naive <- coxph(Surv(os_months, death) ~ operated + dominant_site + hormone_receptor + her2,
                 data = d, ties = "efron", control = ctl)
  # surgery as a time-dependent covariate: split each operated patient's follow-up at surgery
  d$id <- seq_len(nrow(d))
  cp <- tmerge(d[, c("id", "dominant_site", "hormone_receptor", "her2")], d, id = id,
               death = event(os_months, death))
  op <- d[d$operated == 1 & d$surgery_month > 0 & d$surgery_month < d$os_months, ]
  cp <- tmerge(cp, op, id = id, surgery = tdc(surgery_month))
  # operated at time 0 or exactly at the end of follow-up: exposed for the whole follow-up;
  # operated after the end of (censored) follow-up: unexposed
  whole <- d$id[d$operated == 1 & !(d$surgery_month > 0 & d$surgery_month < d$os_months) &
                !(d$surgery_month > d$os_months)]
  cp$surgery[is.na(cp$surgery)] <- 0
  cp$surgery[cp$id %in% whole] <- 1
  tv <- coxph(Surv(tstart, tstop, death) ~ surgery + dominant_site + hormone_receptor + her2,
              data = cp, ties = "efron", control = ctl)
  populations <- list(per_protocol = arm_hr(pp, "armA"), as_treated_naive = arm_hr(naive, "operated"),
                      as_treated_time_varying = arm_hr(tv, "surgery"))
  zph <- cox.zph(fit, transform = "km", terms = FALSE)
  zt <- zph$table
  rownames(zt) <- c(terms, "GLOBAL")
  list(file = basename(path), n = nrow(d), events = sum(d$death), events_os = sum(d_all$death),
       loglik = unname(fit$loglik[2]), cox = cox,
       loglik_os = unname(fit_os$loglik[2]), cox_os = cox_terms(fit_os, terms),
       km_24 = km, populations = populations,
       logrank = logrank(d_all), logrank_24 = logrank(d),
       cox_zph_km = lapply(split(as.data.frame(zt), rownames(zt)), function(r) list(chisq = r$chisq, p = r$p)))
}

cut_at <- function(d, c) {
  d <- d[d$entry_month <= c + 1e-9, ]
  fu <- round(c - d$entry_month, 2)
  dead <- d$death == 1 & d$os_months <= fu + 1e-9
  d$os_months <- ifelse(dead, d$os_months, pmin(d$os_months, fu))
  d$death <- as.integer(dead)
  d
}

one_cut <- function(path, c) {
  d <- censor_at(cut_at(read.csv(path, stringsAsFactors = FALSE, na.strings = ""), c), PRIMARY_CENSOR_MONTHS)
  d$arm <- factor(d$arm, levels = c("B", "A"))
  d$dominant_site <- factor(d$dominant_site, levels = c("bone", "soft_tissue", "visceral"))
  d$hormone_receptor <- factor(d$hormone_receptor, levels = c("positive", "negative"))
  d$her2 <- factor(d$her2, levels = c("negative", "positive"))
  out <- list(cutoff_month = c, n = nrow(d), events = sum(d$death))
  for (ties in c("efron", "breslow")) {
    f <- coxph(Surv(os_months, death) ~ arm + dominant_site + hormone_receptor + her2, data = d, ties = ties,
               control = coxph.control(eps = 1e-10, iter.max = 100))
    out[[ties]] <- list(coef = unname(coef(f)[1]), se = unname(sqrt(diag(vcov(f)))[1]), loglik = unname(f$loglik[2]))
  }
  out
}

files <- sort(Sys.glob(file.path(data_dir, "trial_*.csv")))
if (length(files) == 0) stop("no data/trial_*.csv found (run from the repository root); nothing written")
res <- list(software = paste0("R ", R.version$major, ".", R.version$minor, ", survival ",
                              as.character(packageVersion("survival"))),
            primary_censor_months = PRIMARY_CENSOR_MONTHS,
            results = setNames(lapply(files, function(f) tryCatch(one(f), error = function(e)
              stop("no result for ", f, " (", conditionMessage(e), "); nothing written", call. = FALSE))),
              sub("\\.csv$", "", basename(files))),
            cuts = lapply(c(22.0, 28.5, 29.75, 33.3), function(c) one_cut(file.path(data_dir, "trial_protocol.csv"), c)))
vals <- unlist(res$results)
if (length(vals) == 0 || any(is.na(vals)) || any(!nzchar(vals)))
  stop("empty or NA result(s), nothing written: ", paste(head(names(vals)[is.na(vals) | !nzchar(vals)]), collapse = ", "))
writeLines(toJSON(res, auto_unbox = TRUE, digits = I(15), pretty = TRUE), out)
