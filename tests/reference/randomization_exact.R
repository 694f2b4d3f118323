# Reference values for trialnb.randomization, computed independently in base R.
#
#   Rscript tests/reference/randomization_exact.R [OUTPUT.json]
#
# One optional argument, the output path (default tests/reference/randomization_exact.json);
# run from the repository root; every input is constructed below. If any expected value is
# empty or NA the script stops with an error and writes nothing.
#
# - Procedures driven by the imbalance D alone (complete, Efron's coin, big stick): the law of
#   D is propagated with a dense transition vector over -n..n; at each step the convergence
#   guess (arm allocated less often, ties 1/2) is right with P(lagging arm).
#   Outputs the expected proportion of correct guesses, E|D_n| and P(D_n = 0).
# - Permuted blocks of fixed size: all choose(2m, m) arrangements of one block enumerated with
#   combn(); per-position expected correct guesses, summed over full and partial blocks.
# - Random block sizes: renewal recursion f(t) = sum_s w_s [g_s(min(s, n - t + 1)) + f(t + s)].
# - Maximal procedure: completion counts (doubles) and a forward pass over (i, D).
# - Minimization: Pocock-Simon scores G_A, G_B for constructed counts (range, sd, variance).
# Writes JSON (jsonlite, 15 significant digits). Run from the repository root.
suppressPackageStartupMessages(library(jsonlite))
args <- commandArgs(trailingOnly = TRUE)
if (length(args) > 1) stop("usage: Rscript tests/reference/randomization_exact.R [OUTPUT.json]")
out <- if (length(args) == 1) args[1] else "tests/reference/randomization_exact.json"

d_chain <- function(phi, n) {
  d <- -n:n
  w <- numeric(length(d)); w[n + 1] <- 1
  correct <- 0
  for (i in seq_len(n)) {
    pa <- vapply(d, phi, numeric(1))
    correct <- correct + sum(w * ifelse(d == 0, 0.5, ifelse(d < 0, pa, 1 - pa)))
    nw <- numeric(length(w))
    nw[2:length(w)] <- nw[2:length(w)] + (w * pa)[1:(length(w) - 1)]
    nw[1:(length(w) - 1)] <- nw[1:(length(w) - 1)] + (w * (1 - pa))[2:length(w)]
    w <- nw
  }
  list(correct_guess = correct / n, expected_abs_imbalance = sum(abs(d) * w), p_zero = w[n + 1])
}

efron <- function(p) function(d) if (d == 0) 0.5 else if (d < 0) p else 1 - p
bigstick <- function(b) function(d) if (d >= b) 0 else if (d <= -b) 1 else 0.5
complete <- function(d) 0.5

# expected correct guesses at each position of one block of size s (all arrangements equally likely)
block_positions <- function(s) {
  m <- s / 2
  pos <- combn(s, m)
  score <- numeric(s)
  for (j in seq_len(ncol(pos))) {
    x <- integer(s); x[pos[, j]] <- 1L
    d <- 0
    for (i in seq_len(s)) {
      score[i] <- score[i] + (if (d == 0) 0.5 else if ((d < 0 && x[i] == 1) || (d > 0 && x[i] == 0)) 1 else 0)
      d <- d + if (x[i] == 1) 1 else -1
    }
  }
  score / ncol(pos)
}

fixed_blocks <- function(s, n) {
  g <- block_positions(s)
  full <- n %/% s; rest <- n %% s
  (full * sum(g) + if (rest > 0) sum(g[1:rest]) else 0) / n
}

random_blocks <- function(sizes, weights, n) {
  weights <- weights / sum(weights)
  g <- lapply(sizes, block_positions)
  f <- numeric(n + max(sizes) + 1)  # f[t]: expected correct in positions t..n when a block starts at t
  for (t in n:1) {
    v <- 0
    for (k in seq_along(sizes)) {
      L <- min(sizes[k], n - t + 1)
      v <- v + weights[k] * (sum(g[[k]][1:L]) + (if (t + sizes[k] <= n) f[t + sizes[k]] else 0))
    }
    f[t] <- v
  }
  f[1] / n
}

maximal <- function(n, b) {
  comp <- matrix(0, n + 1, 2 * b + 1)  # comp[i + 1, d + b + 1]
  comp[n + 1, b + 1] <- 1
  for (i in (n - 1):0) for (d in -b:b) {
    v <- 0
    if (d + 1 <= b) v <- v + comp[i + 2, d + 1 + b + 1]
    if (d - 1 >= -b) v <- v + comp[i + 2, d - 1 + b + 1]
    comp[i + 1, d + b + 1] <- v
  }
  w <- numeric(2 * b + 1); w[b + 1] <- 1
  correct <- 0
  for (i in 0:(n - 1)) {
    nw <- numeric(2 * b + 1)
    for (d in -b:b) {
      wt <- w[d + b + 1]
      if (wt == 0) next
      up <- if (d + 1 <= b) comp[i + 2, d + 1 + b + 1] else 0
      pa <- up / comp[i + 1, d + b + 1]
      correct <- correct + wt * (if (d == 0) 0.5 else if (d < 0) pa else 1 - pa)
      if (pa > 0) nw[d + 1 + b + 1] <- nw[d + 1 + b + 1] + wt * pa
      if (pa < 1) nw[d - 1 + b + 1] <- nw[d - 1 + b + 1] + wt * (1 - pa)
    }
    w <- nw
  }
  list(n_sequences = comp[1, b + 1], correct_guess = correct / n)
}

minim <- function(xa, xb, measure) {
  g <- c(A = 0, B = 0)
  for (i in seq_along(xa)) {
    for (t in c("A", "B")) {
      y <- c(xa[i], xb[i]) + if (t == "A") c(1, 0) else c(0, 1)
      g[t] <- g[t] + switch(measure, range = max(y) - min(y), variance = var(y), sd = sd(y))
    }
  }
  g
}

d_based <- list()
for (n in c(10, 50, 236)) {
  add <- function(name, param, phi) {
    r <- d_chain(phi, n)
    d_based[[length(d_based) + 1]] <<- c(list(procedure = name, param = param, n = n), r)
  }
  add("complete", NA, complete)
  add("efron", 2 / 3, efron(2 / 3))
  add("efron", 0.75, efron(0.75))
  add("big_stick", 2, bigstick(2))
  add("big_stick", 3, bigstick(3))
}
blocks <- list()
for (s in c(2, 4, 6, 8)) for (n in c(10, 236)) {
  blocks[[length(blocks) + 1]] <- list(block_size = s, n = n, correct_guess = fixed_blocks(s, n))
}
rblocks <- list(
  list(sizes = c(2, 4, 6), weights = c(1, 1, 1) / 3, n = 236, correct_guess = random_blocks(c(2, 4, 6), c(1, 1, 1), 236)),
  list(sizes = c(4, 8), weights = c(0.25, 0.75), n = 50, correct_guess = random_blocks(c(4, 8), c(0.25, 0.75), 50))
)
maxi <- list()
for (cfg in list(c(10, 2), c(50, 3), c(236, 3))) {
  maxi[[length(maxi) + 1]] <- c(list(n = cfg[1], max_imbalance = cfg[2]), maximal(cfg[1], cfg[2]))
}
mins <- list()
for (measure in c("range", "variance", "sd")) {
  g <- minim(c(5, 3, 2), c(2, 4, 3), measure)
  mins[[length(mins) + 1]] <- list(counts_A = c(5, 3, 2), counts_B = c(2, 4, 3), measure = measure,
                                   G_A = unname(g["A"]), G_B = unname(g["B"]))
}
res <- list(d_based = d_based, fixed_blocks = blocks, random_blocks = rblocks, maximal = maxi,
            minimization = mins)
# "param" is NA by design for complete randomization (it has no parameter); every other value
# is expected
vals <- unlist(res)
vals <- vals[!grepl("(^|\\.)param$", names(vals))]
if (length(vals) == 0 || any(is.na(vals)))
  stop("empty or NA result(s), nothing written: ", paste(head(names(vals)[is.na(vals)]), collapse = ", "))
writeLines(toJSON(res, auto_unbox = TRUE, digits = I(15), pretty = TRUE, na = "null"), out)
