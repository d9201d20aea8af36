"""Attribution: rank the enterprises behind each complaint event, wind-aware, with evidence.

For every event (a space-time cluster from :mod:`envtrace.events`) the candidate
enterprises within ``max_distance_m`` of the event centre are ranked by their posterior
probability of being the source, against an explicit "unknown / background source"
hypothesis. Each suspect gets a readable evidence line and a permutation p-value.

The model
---------
Complaint ``i`` of an event of category ``k`` is made at ``p_i`` and received at ``t_i``;
enterprise ``j`` sits at ``q_j`` with industry weight ``w_jk`` (``envtrace.profiles``:
how strongly its industry causes ``k``, 0–1) and reach ``L_j`` (metres, how far its
nuisance typically carries).

1. **Transport.** A unit ground-level source at ``q_j`` gives, in the hour with wind from
   ``θ`` (degrees, FROM) at ``u`` m/s and Pasquill stability ``s``, the ground-level
   Gaussian-plume concentration (s/m³ per unit emission rate)

   ``C = exp(-y² / 2σy²) / (π u σy σz)``  for downwind distance ``x = d cos δ > 0``,

   ``y = d sin δ`` crosswind, ``δ`` the angle between the bearing ``q_j → p_i`` and
   ``θ + 180°``; ``C = 0`` upwind. ``σy, σz`` are Briggs open-country spreads
   (:func:`envtrace.wind.sigma_y`, :func:`~envtrace.wind.sigma_z`), with ``σy`` at
   least ``x·tan σθ`` for the meander of the wind direction within an hour and the
   direction error of a station km away, ``σθ² = (12°)² + (σv / u)²`` with a lateral
   turbulence ``σv = 0.5 m/s`` that persists in light winds (Hanna 1983), at most 40°
   (22.6° at 1.5 m/s, 15.3° at 3 m/s, 12.9° at 6 m/s), and ``σz`` capped at 800 m
   (mixing height); ``u`` at least 1 m/s. A calm hour (speed < 0.5 m/s
   or no direction) spreads in all directions: the sector-average form over the whole
   circle, ``C = √(2/π) / (σz · 0.5 m/s · 2π d)`` — broad, weak, short-range.
2. **Reporting lag.** A complaint received at ``t_i`` reports a smell ``h`` hours earlier
   with prior ``p(h) ∝ exp(-h / τ)``, ``h = 0 … 6`` h, ``τ = 1.5`` h (most smells are
   phoned in within 1–2 h); for the ``12345`` channel (transfers arrive late) ``h = 0 … 12``,
   ``τ = 4`` h. Exposure ``E_ij = Σ_h p(h) C_j(p_i, t_i − h)^γ`` with the hourly wind of the
   station nearest ``p_i`` that has data in that hour (lags without wind drop out and
   ``p`` is renormalised). **Time words**: when the text says when the nuisance was
   noticed (``半夜``, ``凌晨两三点``, ``白天``, ``last night``:
   :func:`envtrace.classify.noticed_hours` gives the local hours it allows), the text is
   right with probability ``t`` and ``p_i(h) = t q_i(h) + (1 − t) p(h)`` (:func:`lag_weights`).
   ``t`` is estimated from the texts themselves (:func:`time_word_trust`): right words
   agree with the receipt hour (received inside the window or within 6 h after it) more
   often than words shuffled among the complaints would, ``t̂ = (a − a0) / (1 − a0)``,
   shrunk towards and capped at ``time_cue_trust = 0.8`` (generated worlds: ``t̂`` 0.71–0.77;
   time words swapped at random: 0.01–0.05, so misleading words are ignored). If the
   receipt hour lies in the window (``半夜`` phoned in at 23:40) ``q_i`` is ``p``
   restricted to lag hours in the window; otherwise the smell was
   reported later — night smells are often phoned in the next morning — and ``q_i`` is
   even over the most recent run of window hours before receipt, at most
   ``lag_max_h_cue = 18`` h back (``凌晨`` received at 08:30: h = 3 … 8). Read at the
   receipt hour, such a complaint tested the *morning* wind: on the tuning worlds, where
   45 % of night smells are reported the next morning, top-1 rose from 0.688 to 0.702,
   on ``random`` worlds 1300–1329 from 0.632 to 0.645 (innocent blame 4.7 % → 4.3 %) and
   on new seeds 1800–1829 from 0.661 to 0.674; with the words swapped at random among the
   complaints it is 0.662 there, the same as with no words (0.663).
3. **Wind-climate normalisation** (the CPF/CBPF idea of openair). ``B_ij`` is the mean
   of ``C_j(p_i, t)^γ`` over all hours of the wind record, and ``R_ij = E_ij / B_ij`` says
   how much more the wind carried ``j``'s air to ``p_i`` at complaint time than usual.
   A prevailing wind that always blows from ``j`` to town gives ``R ≈ 1``: no blame.
   Under the background hypothesis complaint times are unrelated to the wind, and
   ``E[R] = 1``; under "``j`` is the source" the complaint rate at ``p_i`` is
   proportional to the perceived intensity ``C_j(p_i, t)^γ`` (Stevens' power law; odorants
   have exponents of about 0.2–0.8, ``γ = response_exponent = 0.5``), so ``R`` is exactly
   the likelihood ratio of one complaint time. (With ``γ = 1``, rate proportional to the
   concentration, a few stable nights with huge ground-level concentrations dominated
   ``B``, and daytime complaints downwind of a day-shift plant read as evidence *against*
   it: a valley plant's true source scored ``log LR_time = −7`` on a pure event of its
   own. On the tuning worlds top-1 is flat for ``γ`` in 0.3–0.7.) ``B`` is computed once per station group on a polar table around a
   unit source (80 log-spaced distances 10 m–80 km × 72 bearings) from the joint
   frequency of (5° direction, stability, speed class) in the record weighted by ``u^-γ``
   — the STAR-table approach of long-term dispersion models; ``C ∝ 1/u`` at fixed
   geometry and meander, so this is exact in speed up to the meander's speed class (7
   classes, 1–13 m/s) — as a circular convolution with the unit-speed plume kernel, and looked up by bilinear interpolation, so its cost does not grow with the
   number of complaints, enterprises or hours. (Option ``stratify_stability``: normalise
   each hour by the mean over hours of its own stability class instead, which removes the
   night-time dominance of ``B`` but makes the ratios larger and the scores less
   conservative; off by default, see ``benchmarks/results/attribution.md``. Option
   ``complaint_hours_baseline``: weigh the hours of ``B`` by the record's hour-of-day
   profile of complaints, so ``E[R] = 1`` over complaint times; no gain on the tuning
   worlds once ``γ = 0.5``, off by default. Option ``activity_baseline``: each enterprise's ``B`` over
   its own operating hours, the exact ratio if the listed hours were its real ones; off by
   default: listed hours are industry typicals, and it raised innocent blame on the tuning
   worlds.)
3b. **A turned station** (option ``wind_rotation_sd_deg``, off by default). A station km
   away, on an airfield or in other terrain, can read the wind turned by tens of degrees
   for months. :func:`_fit_wind_rotation` scores turns of the record in steps of 10° up to
   ±40° by the most complained-of events' evidence over their prior mass (step 4's timing
   likelihood with the turned record), against a normal prior on the turn, and keeps the
   smallest turn within one standard error of the best; a turn is reported in the
   warnings. Off by default: on independent worlds without a turned station it chose
   spurious turns (``benchmarks/results/attribution.md``, seventeenth session).
4. **Timing likelihood.** ``log LR_time_j = Σ_i v_i log(π_b + (1 − π_b) R_ij)`` with a
   background share ``π_b = 0.2`` (complaints unrelated to ``j``). Duplicates
   (``duplicate_of != ""``) are skipped, and repeat calls by one ``complainant_key``
   within the event share one unit of weight (``v_i = 1 / n_calls``); ``n`` complaints
   received in the same hour share that hour's wind — the one random quantity this term
   tests — so they weigh one together, as the mean of their terms
   (``same_hour_exponent = 1``; their places still triangulate within the hour; it was
   ``0.5``, ``√n`` together, before). Complaint hours closer than the reporting-lag
   window (``lag_max_h``, 6 h) share lag hours and nearly the same wind, so they are not
   independent observations of it either: each distinct hour ``h`` of the event weighs
   ``1 / Σ_h' ρ(|h − h'|)``, ``ρ`` the autocorrelation of the wind direction measured on
   the record (circular, prevailing direction removed; mean over stations) and taken as 0
   beyond the lag window — beyond it complaints are independent given the wind, and the
   wind's longer memory is what the permutation p-value (step 10) accounts for
   (``wind_autocorrelation``; without it scores were over-confident: on seeds 0–1 rank-1
   suspects scored 0.94 were right 57 % of the time). Complaints made
   after ``j`` closed contribute ``log π_b`` (``j`` cannot explain them). At most
   ``max_complaints_wind`` (200) complaints per event, a seeded sample, enter the wind
   term.
5. **Plausibility** (distance and industry), from the emission strength the complaints
   need. Source ``j`` explains complaints at distance ``d_j`` (from the event centre) only
   if it emits at least ``Q_needed ∝ d_j^α`` (ground-level concentration falls as
   ``d^-α``, ``α = 1.8``); the industry's reach ``L_j`` says the typical plant reaches the
   odour threshold at ``L_j``, and plants of one industry differ in emission by about a
   decade (``ln Q`` normal, sd ``σ_Q = 2.3``). So ``a_j = w_jk · P(Q_j ≥ Q_needed) =
   w_jk · Φ(−α ln(d_j / L_j) / σ_Q)``: half the weight at the reach, 10 % at five times
   the reach, no cut-off (``max_distance_m`` only prunes). (``emission_log_sd = 0``
   restores the earlier ``w_jk / (1 + (d_j / L_j)²)``, which let a far true source
   drop out of the 40 candidates and favoured neighbours with a longer listed reach.)
   **The wind rose** (``directional_reach``, with wind data, odour and dust): the listed
   reach is a typical plant's over all directions, and downwind of the prevailing wind its
   air arrives more often. So the candidates' ``a_j`` use the effective distance
   ``d_j ρ_j^(-1/α)``, ``ρ_j`` the long-run mean concentration from ``j`` at the event
   centre over its mean at that distance in all directions (the polar tables of step 3 with
   ``γ = 1``), i.e. ``z − ln ρ_j / σ_Q`` (``ρ`` clipped to 10⁻³–10³). Independent worlds
   (``benchmarks/blind_world.py`` seeds 0–15): top-1 0.802 → 0.808, top-3 0.914 → 0.921;
   the tuning worlds within 0.2 point. Only enterprises with ``w_jk > 0`` are candidates and
   at most ``max_candidates`` (40) with the largest ``a_j`` (by distance alone; the wind
   rose applies to those chosen) get the wind term, and with
   them the ``nearest_candidates`` (10) nearest the event centre whatever their ``a_j``.
   The industry is the registered code's, or what the enterprise's name says it is when
   the name ends with a plant word of the industry table (``industry_from_name``:
   ``某某生活垃圾填埋场`` registered under 环境卫生管理 N7820 is profiled as a landfill,
   N7723; :func:`envtrace.profiles.code_by_name`).
   The listed reach is what a typical plant of the industry reaches, and a county full of
   far-reaching chemical plants had filled the 40 places with them, so that a printer
   1–2 km from the complaints (listed reach 1 km) was never tested against the
   wind: the prior alone had ruled on it (seed 2101, every preset). The nearest plants are
   the ones an inspector looks at first; the wind term, not the cut, now judges them.
6. **Operating hours** (weak). For each complaint the factor
   ``(ε + (1 − ε)·a_i) / (ε + (1 − ε)·ā)``, ``ε = 0.5``, ``a_i = Σ_h p_i(h) a(hour_i − h)``
   the profile's activity 0–1 (``day`` 7–19 h; ``night_possible`` half at night) at the
   local hours the smell was noticed (the lag weights of step 2, so a ``半夜`` complaint
   received at 08:30 is judged at night), ``ā`` its daily mean; ``log LR_hours`` is the weighted mean log factor times
   ``min(Σ v_i, 3)``: at most three complainants' worth, so it stays within a factor of
   about 3 either way (covert night discharge from a day-shift plant is real).
7. **Alarms.** ``n`` online-monitoring alarm *episodes* of ``j`` (pollutant relevant to
   ``k``, or unclassified) with an alarm within 6 h before any complaint of the event,
   ``T`` the hours covered by the 6 h windows, ``λ_j`` the baseline rate of ``j``'s
   episodes with relevant alarms over the record. An episode is a run of alarms at most
   ``alarm_episode_gap_h`` = 2 h apart: one upset exceeds the limit hour after hour, and
   counted alarm by alarm a plant's random three-hour burst beside a village's evening
   complaints weighed like three independent signs (independent worlds of
   ``benchmarks/blind_world.py``: a fertiliser plant 17 km away led a chicken farm's
   event 400 m from it, ``log LR_alarm = 4.3``; seventeenth session).
   ``LR_alarm`` is a Bayes factor: background ``n ~ Poisson(λ_j T)``; source: the same
   baseline plus a geometric number of extra alarms with mean ``m = 1`` (an exponential
   mixture of Poisson rates), except that with probability ``β = 0.5`` the emission
   bypasses the monitor (covert discharge) and only the baseline remains. So ``n = 0``
   gives ``β + (1 − β)/(1 + m) = 0.75``, one alarm against a baseline of 0.1 gives 2, a
   burst of alarms gives a large factor. Only enterprises whose record holds alarms of a
   pollutant relevant to ``k`` (they have a monitor whose alarms bear on it) get the
   factor; for others it is 1. (``alarm_extra_mean = 0`` restores the earlier shrunk rate ratio
   ``(n + 1) / (λ_j T + 1)``, which capped 20 alarms in the windows at a factor of 11.)
   A pollutant is relevant to ``k`` when it is of that kind (VOCs, H2S for odour; COD for
   water; particulates for dust; noise), and also when the enterprise's industry causes
   both ``k`` and the pollutant's kind strongly (weights ≥ ``alarm_shared_weight = 0.5``,
   any two kinds): one process or activity makes both, so an upset shows in each — a
   sewage works' effluent COD exceedances and its odour, a paper mill's, a construction
   site's particulate monitor and its night noise. (Until 2026-11-27 a sewage works' COD alarms
   said nothing about its odour, and malfunctioning works were lost to neighbours with a
   VOCs monitor: top-1 on ``random`` worlds 1800–1829 rose from 0.672 to 0.732 and on the
   preset worlds 1900–1904 from 0.632 to 0.714; see ``benchmarks/results/attribution.md``.)
   With wind data only the complaints that ``j``'s plume reached (within 2σy in at least
   one lag hour) count, for ``n`` and for ``T``: an upset of a plant whose air never came
   cannot explain them. (A paper mill in a long malfunction, its COD alarms counted for
   odour, led a neighbour's event its plume never reached, ``log LR_time = −9.3`` against
   ``log LR_alarm = +10.5``; with the alarms of the reached complaints only, innocent blame
   fell on every evaluation set, by 0.1–1.5 points, top-1 moved by −0.6 to +0.3.) Without
   wind, or for noise, water and waste events, all the event's complaints count.
7b. **Enforcement history** (with an ``actions`` record). A *finding* is an action that
   establishes a violation: ``penalty_case`` or ``police_transfer`` (inspections alone do
   not: most find nothing; nor does ``rectified``, which says a problem was fixed: counted
   as a finding it made a plant fixed in February the suspect of its neighbours' events
   all spring — innocent blame 10.2 % against 5.2 % on held-out seeds 100–104, top-1 the
   same). Enterprise ``j`` either has a finding dated (on the complaints' local calendar)
   before the day of the event's first complaint and at most ``history_window_days``
   (365) before it, or has none. If ``j`` is the source, it has one with probability
   ``r`` (``history_recall``, 0.1: one source in ten has already been caught and penalised
   once — sources persist and recur, which is why the bureau re-inspects for "no rebound,
   no recurrence"; on the tuning worlds r = 0.1 / 0.2 gave top-1 0.691 / 0.684, innocent
   blame 3.6 / 4.2 %); if it is innocent, with the base rate ``b`` = (enterprises with a
   finding in that window + 1) / (enterprises + 50) (a Beta(1, 49) prior: about 2 % of a
   county's firms are caught in a year, worth 50 firms of data, so a short list of
   enterprises does not make findings look common). So ``LR_hist = r / b`` with a finding
   and ``(1 − r) / (1 − b)`` without (a county with findings against 3 of 80 firms: 3.3
   and 0.93, so 3.5× in favour of a firm already caught). Only findings *before* the
   event's first day count, never the investigation of the event itself, and the term is
   1 without an ``actions`` record (or with an empty one).
   It is a prior on the enterprise, like ``a_j``: the triangulation (step 9) learns its
   weights without it, else a plant caught once gathers the weight of every event in its
   plume (held-out seeds 100–104, first form of the term: innocent blame 10.5 % counted
   twice, 7.9 % once).
7c. **What the complainants call the smell** (odour events). Complainants name the kind of
   smell (``臭鸡蛋味`` rotten eggs, ``猪粪味`` pig manure, ``油漆味`` paint, ``下水道的臭味``
   sewage; ``rotten eggs``, ``sulfur``), and an analyst reads it: rotten eggs points at a
   sewage works or a coke oven, not at a paint shop. ``envtrace/data/odours.csv`` lists 14
   kinds, the words for each and the industries (GB/T 4754 code prefixes) each is typical
   of; :func:`envtrace.classify.odour_families` reads the kinds a text names (generic words,
   ``臭味``, ``刺鼻``, ``怪味``, name none). If ``j`` is the source, a complaint that names a
   kind names one of ``j``'s ``F_j`` typical kinds with probability ``s``, spread evenly over
   them, and otherwise a kind as common as over all the record's odour complaints (``q_f``:
   three quarters the shares in a seeded sample of at most 20,000, a quarter spread evenly,
   so that a kind the sample never names does not weigh thousands-fold); under "anything
   else" always the latter. So a complaint naming kind ``f`` gives
   ``LR = (s·[f ∈ F_j] / |F_j| + (1 − s)·q_f) / q_f`` (the mean over its kinds when it names
   several), and ``log LR_odour_j`` is the complainant-weighted mean log LR of the event's
   complaints that name a kind times ``min(Σ v_i, 3)`` (``odour_max_weight``: at most three
   complainants' worth, as the words of one event are not independent of the lexicon's
   gaps); 1 for an enterprise whose industry has no typical kind listed. ``s`` is estimated
   from the events themselves (:func:`odour_word_trust`, each complainant counted once):
   two complaints of one event name a common kind with probability ``a ≈ s² + (1 − s²)·a0``, ``a0`` that of two complaints at
   random, so ``ŝ = √((a − a0)/(1 − a0))``, shrunk by the number of pairs and capped at
   ``odour_word_trust = 0.8``; words that agree within events no more than chance are
   ignored (one event alone: ``ŝ = 0``). Events holding two sources, or background
   complaints, lower ``ŝ``. The lexicon itself can be wrong for a county (its printers may
   be described as smelling of pulp, not ink), and an industry of unknown smell then beats
   the source the words contradict: so ``ŝ`` is multiplied by the lexicon's fit
   (:func:`odour_lexicon_fit`, 0–1: how much more often than chance an event's words name a
   kind typical of the suspect the other evidence ranks first, against a right lexicon;
   conservative, as that suspect is sometimes wrong). Generated worlds: ``ŝ`` 0.6–0.7 when
   every source complaint names its source's kind, fit 0.2–0.5. Without the fit, top-1 on
   the tuning worlds rose from 0.724 to 0.809 but innocent blame rose by up to 2 points
   on held-out sets (same-kind neighbours gained the confidence); with it top-1 is 0.770
   and innocent blame 4.7 % (4.6 % without the words); ``benchmarks/results/attribution.md``,
   eighth session. The suspects the other evidence cannot tell from the first (provisional
   posterior within ``odour_fit_margin`` = 20× of it: plants in one plume) stand for the
   source together, a named kind fitting when it is typical of any of them: with the
   first alone, worlds full of look-alike neighbours (a pharmaceutical plant 130 m from the
   paint factory all 54 complainants smelled) made a right lexicon look wrong and the
   words that tell such neighbours apart were cut (independent worlds of
   ``benchmarks/blind_world.py``, seeds 0–15: top-1 0.721 → 0.786; seventeenth session).
7d. **Enterprises the complainants name** ("怀疑是凯瑞化工", "鲁泰那个厂", "Clairton again").
   :func:`envtrace.classify.enterprise_aliases` makes the short names a firm goes by (the
   name up to its first legal form, without its leading places, and its two-character
   brand when it is no trade word and no other firm, place or address shares it; whole
   capitalised words of an English name that are not generic, ``Clairton``,
   ``Edgar Thomson``) and
   :func:`~envtrace.classify.named_enterprises` reads which one firm a text names (an
   Aho–Corasick automaton; a text naming two names none). People name the plants they
   know, near home, whatever the source: the *salience* of firm ``j`` to complainant ``i``
   is ``π_i(j) = (1 − f) w_jk e^(−d_ij/D) / Σ_j' w_j'k e^(−d_ij'/D) + f n_j w_jk / Σ_j' n_j' w_j'k``
   over the ``name_neighbours`` (64) firms nearest ``i`` within ``5 max(D)`` that can cause
   the category (those closed at the time weigh nothing) and the named firm itself
   (``w_jk`` its industry weight). A share ``name_floor`` ``f = 0.1`` of names goes to a
   firm of that neighbourhood whatever its distance, in proportion to ``n_j``, one more
   than the number of *other* events whose complaints name it (its notoriety: a plant
   named all over the county weighs less per name; a source named by many in its one
   event is not made notorious by it; the parts of split events use the first ranking's
   counts). A name of a firm that cannot cause the category, has no place or had closed
   says nothing. If ``s`` is the source, a complainant who names a
   firm names ``s`` with probability ``t`` and otherwise by salience: ``P(j | s) = t·[j = s]
   + (1 − t) π_i(j)``; under the background hypothesis ``P(j) = π_i(j)``. So a name of
   ``j`` gives candidate ``c`` the likelihood ratio ``(t·[j = c] + (1 − t) π_i(j)) /
   π_i(j)`` against the background: naming the plant next door (``π`` large) says little,
   naming one 5 km away whose plume the complainant sits in says much, and every name
   of another firm weighs ``1 − t`` against ``c``. ``log LR_names_c`` is the weighted mean
   over the event's naming complaints of the wind sample times ``min(Σ v_i, 3)``
   (``name_max_weight``: names spread by word of mouth; the fit below uses the same capped
   weights, each shared among the names one complainant gives of one firm across events:
   one person's habit is one opinion). ``t`` and ``D`` are learnt from
   the events themselves: the grid ``t`` ∈ {0, 0.1, …, 0.9, 0.95} × ``D`` ∈ {250, 500, 1000,
   2000 m} that maximises the names' marginal likelihood ``Σ v_i log(t q_i + (1 − t)(1 −
   p_b) π_i + p_b π_i)`` under the posterior without the names (``q_i``: of the named
   firm, ``p_b``: of the background), used only when it beats ``t = 0`` by
   ``name_min_gain`` (3 nats, a likelihood-ratio test); names that only follow proximity
   give ``t = 0`` and change nothing. Generated worlds: ``t̂`` 0–0.8 (median 0.4) where half
   the names point at the source, 0 in every one of 60 worlds where complainants name a
   plant near home only; Smell Pittsburgh's winter of the Clairton fire: 0.95 without wind
   data, 0 with the wind turned round (``benchmarks/results/attribution.md``, twelfth
   session: top-1 +5 to +9 points on six fresh sets). Names are believed as far as they
   agree with the posterior without them, prior included: where complainants name the
   plant the prior favours anyway (Smell Pittsburgh's whole record names Clairton), the
   names add confidence to it even with the wind turned round
   (``benchmarks/results/smellpgh.md``). The evidence line says how many of the event's
   complaints name the suspect (``named in 3 complaints``), believed or not; texts are read
   in the wind sample only (all of an event's complaints up to ``max_complaints_wind``).
8. **Posterior.** ``post_j ∝ a_j · m_j · LR_time_j · LR_hours_j · LR_alarm_j · LR_odour_j · LR_names_j · LR_hist_j`` against the
   background hypothesis with weight ``background_prior`` (0.5) and likelihood ratio 1;
   ``score = post_j`` lies in [0, 1] and is comparable across events.
9. **Triangulation across events** (empirical Bayes). The events of category ``k`` are a
   mixture: each is caused by enterprise ``j`` with weight ``π_jk`` or by the background
   with ``π_bk``. ``eb_iterations`` (default 1) EM steps from equal weights estimate them —
   E-step ``post_je ∝ π_j ā_e L_je`` (``ā_e`` the mean plausibility of the event's
   candidates: the weights are learnt from the evidence ``L``, so an enterprise's
   distance/industry prior is not counted a second time through the other events —
   with ``a_je`` there, a big plant gained weight by reputation alone; on the tuning
   worlds the change raised top-1 from 0.552 to 0.564 and top-3 from 0.773 to 0.812 and
   lowered innocent blame from 3.3 % to 3.0 %), M-step ``π_j = (Σ_e post_je + ½) / (N_k + ½ n)``
   (one step: the weights move once from equal towards the maximum-likelihood ones;
   an enterprise gains prior weight in an event as far as it explains the *other*
   events of the category) — and the reported posterior
   of event ``e`` uses the leave-one-out weights ``π^(-e)`` (its own posterior removed), so
   an event never supports itself, rescaled so that the candidates' total prior mass in
   the event is unchanged: triangulation moves belief between enterprises, never away
   from the background hypothesis. An enterprise upwind of complaints from several
   places and wind directions across events accumulates weight; within an event the
   product in step 4 triangulates already. History: off by default until 2026-11-27,
   because with the earlier model it raised innocent blame on the tuning worlds (it
   concentrates belief on the enterprise popular across events, often the park neighbour
   of the true source). With the hour weights of step 4 and the evidence-only weights,
   one step raises top-1 on the tuning worlds (seeds 0–4) from 0.47 to 0.56 and top-3
   from 0.72 to 0.81, with innocent blame 3.0 % (2.0 % without it); more steps move
   towards the maximum-likelihood weights and blame more innocents (with the prior
   counted twice: 3 steps 4.0 %; 30 steps, earlier model, 7.9 %). ``eb_iterations = 0``
   switches it off. The weights come from the events traced together, so an event's
   scores can change with the period traced (a month alone, or a whole season).
   **Local in time.** Nuisance sources are episodic — a farm in the summer months, a
   malfunction for weeks, covert discharge until the night inspection — so the weights
   at event ``e`` weigh the other events by ``exp(-|t_e − t_e'| / τ)`` (``t`` the mean
   receipt time of the complaints its wind term uses, days): every sum over events above
   becomes a kernel sum, the leave-one-out and prior-mass rules are unchanged, and
   ``τ = ∞`` is the form above. ``τ`` is chosen per category from
   ``triangulation_tau_days`` (7, 14, 30, 60, 120 days, ∞) by the events' leave-one-out
   evidence ``Σ_e log(b + Σ_j a_je m_je L_je)`` — how well the weights learnt from the other events predict each event's own
   evidence — so the data say how episodic their sources are (sample worlds: 30–120 days
   for odour where sources come and go, ∞ where they do not). A shorter scale must beat
   the longer ones by more than one standard error (the one-standard-error rule of
   cross-validation, the error from the events' paired differences): on one month of
   events the differences are fractions of a nat, and the arg-max alone had switched the
   sample county's April between 7 days and ∞ on small changes. Before it, a farm that
   smells from June to September led winter events it could not have caused, its
   prior raised fourfold by its summer events (seed 2004, ``random``).
10. **Significance.** The wind series is shifted circularly by random whole days (at least
    7 days from either end; keeps the diurnal cycle and the wind climate, breaks the
    link between complaint times and wind), ``LR_time`` recomputed; ``p = (1 + #{perm ≥
    obs}) / (n + 1)`` for each reported suspect, seeded. Identical day shifts are
    computed once; events with more than ``max_complaints_perm`` (50) complaints are tested
    on a seeded sample of that many (observed and permuted statistics alike). Without wind data (or for noise, water and waste events, whose
    carriers are not the air plume) ``p_value`` is NaN: only distance, industry, timing
    and alarms are used, and the evidence line says so.

11. **Events holding two sources.** A space-time event can hold the complaints of two
    sources: in a town centre a restaurant's lunchtime fumes, a refuse transfer station's
    dawn loading and a plant's night discharge reach the same estates in the same days,
    and the event's chain of complaints holds all three. Per event, for each complaint
    ``i`` of the wind sample with wind data and candidate ``j``, the evidence ``s_ij =
    log(π_b + (1 − π_b) R_ij)`` (+ for odour events the log LR of the kind of smell the
    complaint names, step 7c, when the words are believed: ``油烟`` sides with a restaurant,
    ``垃圾`` with a transfer station); ``a`` is the event's top suspect. The complaints
    with ``s_ib − s_ia > log split_margin`` (2) would rather go with ``b``, for a gain
    ``G_b = Σ v_i (s_ib − s_ia) + log(a_b m_b LR_hist_b / a_a m_a LR_hist_a)`` (nats; the
    prior counted once: complaints that no plume reaches do not go to the likelier plant);
    the ``b`` of largest gain takes them when ``G_b ≥ split_min_gain`` (2) and both parts
    keep ``split_min_complaints`` (3) complainants (one person's calls are no event;
    duplicates go with their originals). ``s_ij`` also holds the complaint's place
    (``split_reach``): step 5's reach at the complaint's distance from ``j`` against the
    event centre's, ``log Φ(−α ln(d_ij/L_j)/σ_Q) − log Φ(−α ln(d_j/L_j)/σ_Q)``, so the
    complaints at a restaurant's door side with it and those far past its reach do not.
    In ``G_b`` the words count once per complainant, at most ``odour_max_weight`` (3)
    complainants' worth, as in step 7c (``split_words_per_person``): each person chose
    their words, while one hour's complaints share its wind.
    Then the next candidate of largest gain, judged against the part each complaint is in,
    takes its own, up to ``split_max_parts`` (4) parts, every part keeping three
    complainants: a town-centre event can hold three or four sources. A complaint that
    some candidate still explains more than ``split_detach_margin`` (20) times better than
    the suspect of its part, one of fewer than three complainants that candidate explains
    so (one or two residents who smelled a restaurant inside a plant's chain of
    complaints: too few for a part), leaves its event for none
    (``cluster_id`` ``-1``; ``left_event`` in the trace's complaints, counted in
    ``summary.json``), if its part keeps three complainants: it is not blamed on a
    suspect its own evidence contradicts. ``rank_suspects`` proposes the split (``attrs["split"]``, with
    the learnt weights ``m_j`` and the trusts in the words in ``attrs["fixed"]``);
    ``envtrace trace`` makes the parts (:func:`envtrace.events.split_events`: ids, counts,
    centres and footprints of their own, the parent's scan p-value) and ranks them again
    with those weights (``split_rounds``, 1 by default: a part may still hold two sources;
    each round costs a ranking of the parts). An event larger than its wind sample
    (``max_complaints_wind``, 200) is split by the sample: each complaint outside it goes
    with its nearest sampled complaint in space and time (``split_neighbour_m_per_h``:
    a day apart counts as a kilometre apart), since complaints made at one place within
    hours of each other smelled the same air; events of more than ``split_max_members``
    (400) complaints are left whole — a chain of thousands of complaints over weeks, at a
    county's scale of a million, is no two-source event that a sample of 200 can divide,
    and each split costs a ranking of its parts (at 1M complaints: 41 more events split,
    +0.7 s). The split events' suspects get no p-values (their parts are tested), so the
    step costs little beyond the ranking of the parts.

Noise does not follow the plume and its reach is hundreds of metres: noise, water and
waste events skip the wind term (``WIND_CATEGORIES`` are odour and dust).

"Upwind" in the evidence line means: the complainant was within the plume half-width
(``|y| ≤ 2σy``, ``x > 0``) of the enterprise in at least one lag hour; the share for all
hours comes from the same polar table as ``B``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from envtrace import _mc, geo
from envtrace.errors import InputError

__all__ = [
    "CANDIDATE_COLUMNS",
    "CATEGORIES",
    "WIND_CATEGORIES",
    "AttributionParams",
    "load_industry_profiles",
    "industry_table",
    "plume_concentration",
    "wind_direction_autocorrelation",
    "lag_prior",
    "rank_suspects",
]

CANDIDATE_COLUMNS: list[str] = [
    "cluster_id", "rank", "enterprise_id", "name", "score", "distance_m", "bearing_deg",
    "p_value", "evidence",
]
CATEGORIES: tuple[str, ...] = ("odour", "noise", "dust", "water", "waste")
WIND_CATEGORIES: frozenset[str] = frozenset({"odour", "dust"})
STABILITY: str = "ABCDEF"

_CALM_MS = 0.5
_SIGMA_THETA_MIN_DEG = 12.0
_SIGMA_Z_MAX_M = 800.0
_U_MIN_MS = 1.0
_U_CALM_MS = 0.5
_TAN_MEANDER = float(np.tan(np.deg2rad(_SIGMA_THETA_MIN_DEG)))
_SIGMA_V_MS = 0.5  # lateral turbulence left in light winds, m/s (Hanna 1983: 0.3-0.7)
_SIGMA_THETA_MAX_DEG = 40.0
# speed classes of the polar kernels (m/s): the meander depends on u, so B sums per class
_U_CLASS_EDGES = np.array([1.0, 1.5, 2.0, 3.0, 4.5, 7.0, 11.0, np.inf])
_U_CLASS_SPEED = np.array([1.2, 1.7, 2.4, 3.6, 5.5, 8.5, 13.0])


def _tan_meander(u: Any) -> np.ndarray:
    """``tan σθ`` of the hourly meander at wind speed ``u`` (m/s, at least 1).

    ``σθ² = θ0² + (σv / u)²``: a floor ``θ0 = 12°`` for the direction error of a station
    several km from the source, plus the light-wind meander of a lateral turbulence
    ``σv = 0.5 m/s`` that does not shrink with the wind (Hanna 1983); at most 40°.
    """
    th = np.sqrt(np.deg2rad(_SIGMA_THETA_MIN_DEG) ** 2 + (_SIGMA_V_MS / np.asarray(u, dtype=float)) ** 2)
    return np.tan(np.minimum(th, np.deg2rad(_SIGMA_THETA_MAX_DEG)))
_DEFAULT_REACH_M = {"odour": 3000.0, "noise": 300.0, "dust": 1500.0, "water": 3000.0, "waste": 1000.0}

# pollutant names (lower case substrings) -> categories the alarm is relevant to
_POLLUTANT_CATEGORY: dict[str, tuple[str, ...]] = {
    "voc": ("odour",), "非甲烷总烃": ("odour",), "nmhc": ("odour",), "h2s": ("odour",),
    "硫化氢": ("odour",), "臭": ("odour",), "odour": ("odour",), "odor": ("odour",),
    "nh3": ("odour", "water"), "氨": ("odour", "water"), "so2": ("odour",), "二氧化硫": ("odour",),
    "苯": ("odour",), "benzene": ("odour",),
    "cod": ("water",), "化学需氧量": ("water",), "ph": ("water",), "总磷": ("water",),
    "总氮": ("water",), "tp": ("water",), "tn": ("water",),
    "pm": ("dust",), "颗粒物": ("dust",), "烟尘": ("dust",), "粉尘": ("dust",), "tsp": ("dust",),
    "dust": ("dust",), "噪声": ("noise",), "noise": ("noise",),
}

_COMPASS_EN = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")
_COMPASS_ZH = ("北", "东北", "东", "东南", "南", "西南", "西", "西北")


@dataclass(frozen=True)
class AttributionParams:
    """Tunable constants of the model (see the module docstring for their meaning).

    Attributes
    ----------
    max_distance_m : float
        Candidates farther than this from the event centre are pruned (metres).
    max_candidates : int
        Candidates per event kept for the wind term, by plausibility ``a_j``.
    nearest_candidates : int
        Also kept, whatever their ``a_j``: this many enterprises nearest the event centre
        (that can cause its category and are open); they add to ``max_candidates`` unless
        they are among the most plausible already.
    max_complaints_wind : int
        Complaints per event (seeded sample) used in the wind term.
    max_complaints_perm : int
        Complaints per event (seeded sample, the same for all its suspects) in the
        permutation test; the observed statistic is recomputed on the same sample.
    lag_max_h, lag_tau_h : int, float
        Reporting-lag window and decay (hours) for ordinary channels.
    lag_max_h_late, lag_tau_h_late : int, float
        The same for channels in ``late_channels`` (12345 transfers).
    background_share : float
        ``π_b`` of step 4.
    background_prior : float
        Prior weight of the unknown/background source, on the scale of ``a_j``.
    hours_epsilon : float
        ``ε`` of the operating-hours factor (1 switches it off).
    hours_max_weight : float
        The operating-hours factor counts at most this many complainants' worth.
    alarm_window_h : float
        Alarms count within this many hours before a complaint.
    alarm_episode_gap_h : float
        Alarms of one enterprise at most this many hours after the one before form one
        episode (step 7 counts episodes, in the windows and in the baseline rate): an
        upset exceeds the limit hour after hour, and three hourly alarms of one upset are
        not three independent signs. 0 counts every alarm.
    eb_iterations : int
        EM iterations of the triangulation across events (0 switches it off).
    same_hour_exponent : float
        Complaints received in the same hour share that hour's wind, so ``n`` of them
        weigh ``n^(1 - x)`` together in the timing likelihood (0: independent; 1: one).
    wind_autocorrelation : bool
        Complaint hours within one reporting-lag window (``lag_max_h``) of each other
        share lag hours and nearly the same wind: weigh each distinct hour by
        ``1 / Σ_h' ρ(|h − h'|)`` over the event's hours, ``ρ`` the autocorrelation of the
        wind direction measured on the record, 0 beyond ``lag_max_h`` (step 4).
    stratify_stability : bool
        Normalise each hour's concentration by the long-run mean over hours of the same
        stability class (True) rather than over all hours.
    min_shift_days : int
        Smallest circular shift of the wind series in the permutation test.
    perm_stop_alpha : float or None
        Sequential stopping of the permutation test (Besag & Clifford 1991, see
        :mod:`envtrace._mc`): a suspect stops being tested once ``⌈α (R + 1)⌉`` shifts
        reached its statistic (its p-value can no longer fall to ``α``) and gets
        ``h / shifts run``; None runs every shift for every suspect.
    top_k : int
        Suspects reported per event.
    emission_log_sd : float
        Spread (natural log) of emission rates among plants of one industry, ``σ_Q`` of
        step 5 (2.3: one decade); 0 restores the reach form ``1 / (1 + (d/L)²)``.
    distance_exponent : float
        ``α`` of step 5: ground-level concentration falls as ``d^-α`` along the plume.
    alarm_extra_mean : float
        ``m`` of step 7: mean number of extra alarms an emitting source trips within the
        event's windows; 0 restores the shrunk rate ratio ``(n + 1) / (λT + 1)``.
    alarm_bypass : float
        ``β`` of step 7: probability that the emission does not reach the monitor at all
        (covert discharges bypass it).
    history_recall : float
        ``r`` of step 7b: share of nuisance sources that already have an enforcement
        finding (penalty case, police transfer) on record when a later event of theirs is
        traced (0 switches the term off).
    history_window_days : float
        Findings older than this many days before the event's first complaint do not count.
    response_exponent : float
        ``γ`` of step 3: the complaint rate grows as ``C^γ`` (Stevens' power law of
        perceived odour intensity); 1 is proportional to the concentration.
    complaint_hours_baseline : bool
        Average the baseline ``B`` of step 3 over the hours weighted by when people
        complain (the record's hour-of-day profile of all complaints) instead of over all
        hours alike.
    activity_baseline : bool
        Average the baseline ``B_ij`` of step 3 over the hours weighted by ``j``'s
        operating hours, ``ε + (1 − ε)·a_j(hour of day)`` (the weights of step 6): under
        "``j`` is the source" complaint times follow ``a_j(t)·C_j(t)^γ``, whose exact
        likelihood ratio is step 6's factor times ``C_j(t)^γ`` over that weighted mean.
        Not used with ``stratify_stability`` (its per-class means are over all hours).
        Off (default): the mean over all hours alike, for every enterprise. Listed operating
        hours are industry typicals and covert discharges ignore them; on the tuning worlds
        this made a day-shift quarry beat the concrete plant beside it that raised the
        dust (innocent blame 6.7 → 9.9 % on presets 3100–3102, 6.7 → 8.3 % on ``random``
        3000–3009; ``urban`` 3600–3609 gained: 0.890 → 0.902 top-1). For a county whose
        enterprises' real hours are known (``"8-18"`` in a profile file), turn it on.
    alarm_shared_weight : float
        An alarm of a pollutant of another kind (COD for an odour event) counts when the
        enterprise's industry weights for both kinds are at least this (step 7); above 1
        only alarms of the event's own kind count.
    time_cue_trust : float
        Largest probability that a time word of the complaint text (``半夜``, ``白天``:
        see :func:`envtrace.classify.noticed_hours`) is right about when the nuisance was
        noticed (step 2); the probability used is estimated from the texts
        (:func:`time_word_trust`) and at most this; 0 ignores the texts' time words.
    lag_max_h_cue : int
        Longest reporting lag (hours) a time word can point to (a ``凌晨`` smell reported
        the next afternoon).
    odour_word_trust : float
        Largest probability that a complainant's words for a smell (``臭鸡蛋味``,
        ``猪粪味``, ``油漆味``; :func:`envtrace.classify.odour_families`) name a smell
        typical of the source's industry (step 7c); the probability used is estimated from
        how much more the complaints of one event agree than complaints at random
        (:func:`odour_word_trust`); 0 ignores the words.
    odour_max_weight : float
        The odour-word factor counts at most this many complainants' worth.
    wind_rotation_sd_deg, wind_rotation_step_deg, wind_rotation_max_deg : float
        Step 3b: the wind record's directions may be turned by a multiple of the step up to
        the maximum (degrees) when the complaints' timing supports it
        (:func:`_fit_wind_rotation`), against a normal prior of this sd on the turn (0, the
        default: never turned). With 15: the independent worlds of
        ``benchmarks/blind_world2.py``, whose airport station reads the wind turned by
        20–40°, gained (top-1 0.272 → 0.312, innocent blame 29.5 → 22.9 %, seeds 0–19), but
        those of ``benchmarks/blind_world.py``, with no such turn, lost more (0.808 →
        0.764; a 10° turn chosen on a two-station world took one from 0.909 to 0.562): the
        events' evidence cannot yet tell a turned station from the sources it favours.
    wind_rotation_events, wind_rotation_complaints : int
        The most complained-of events of a wind category, and complaints of each, that
        judge the turn.
    directional_reach : bool
        Step 5 with the wind rose: each candidate's plausibility at its effective distance,
        nearer downwind of the prevailing wind and farther upwind
        (:func:`_directional_plausibility`). Off: distance alone.
    industry_from_name : bool
        Profile each enterprise by the industry its name says it is when the name ends
        with a plant word of the industry table (:func:`envtrace.profiles.code_by_name`:
        ``某某生活垃圾填埋场`` registered as 环境卫生管理 N7820 is profiled as a landfill,
        N7723); the evidence then says so. Off: the registered code only. In the
        independent worlds of ``benchmarks/blind_world2.py``, whose landfills are
        registered N7820 and named …垃圾填埋场 as real ones are, top-1 rose from 0.228 to
        0.272 and top-3 from 0.334 to 0.420 (seeds 0–19); in those of
        ``benchmarks/blind_world.py``, which draw a sanitation firm's name at random from
        its kind's words (an innocent one may be called 填埋场), top-1 fell from 0.802 to
        0.797 (seeds 0–15); the generated worlds name plants by their codes (unchanged).
    odour_fit_margin : float
        The lexicon's fit (:func:`odour_lexicon_fit`) takes the suspects whose provisional
        posterior is within this factor of the first as the source together (1: the
        first suspect alone).
    name_max_trust, name_max_weight, name_min_gain, name_scales_m : float, float, float, tuple
        Step 7d, complainants who name an enterprise: the largest trust ``t`` (share of
        names that point at the source beyond what proximity explains; 0 ignores the
        names), at most this many complainants' worth per event, the log-likelihood gain
        (nats) the fitted ``t`` must have over ``t = 0`` to be used, and the salience
        scales ``D`` (metres) it is fitted over.
    name_floor : float
        Step 7d: share of names that go to a firm of the complainant's neighbourhood (the
        ``name_neighbours`` nearest that can cause the category) whatever its distance, in
        proportion to how many other events name it (a notorious plant is named from
        afar); it bounds what one name can weigh.
    name_neighbours : int
        Step 7d: the salience of a name is judged among this many firms nearest the
        complainant that can cause the category (within ``5 max(D)``).
    triangulation_tau_days : tuple of float
        Time scales (days) the triangulation of step 9 may weigh other events by,
        ``exp(-|Δt| / τ)``; per category one is chosen by the events' leave-one-out evidence
        (one-standard-error rule, :func:`_choose_time_scale`). ``(inf,)`` weighs every event
        of the record alike (the form before 2026-11-27). Positive; ``inf`` allowed.
    split_min_gain, split_margin, split_min_complaints : float, float, int
        Step 11: a complaint that another candidate explains better than the event's top
        suspect by a factor of more than ``split_margin`` leaves with that candidate's part
        when the part's weighted log gain (nats) is at least ``split_min_gain`` and both
        parts keep ``split_min_complaints`` complaints of the wind sample; 0 (or less)
        switches the step off. Defaults 2 nats and a factor of 2 (until 2026-11-27 22:30 UTC
        1 nat and a factor of 3, from the sixth session's first form, untuned): a
        complaint twice as well explained by ``b`` moves, a split needs a Bayes factor of
        e² ≈ 7 for the two sources; chosen on the tuning worlds (town centres 0.741 → 0.747
        top-1, innocent 13.0 → 12.0 %; presets 0.710 → 0.716, 11.8 → 11.4 %; ``random``
        the same top-1, 8.7 → 7.9 %) and confirmed on fresh worlds
        (``benchmarks/results/attribution.md``).
    split_neighbour_m_per_h, split_max_members : float, int
        Step 11 for an event larger than its wind sample: the complaints outside the
        sample go with their nearest sampled complaint, ``split_neighbour_m_per_h``
        metres counting as one hour apart (1000 / 24: a day as a kilometre); events of
        more than ``split_max_members`` complaints are not split (equal to
        ``max_complaints_wind``: only events wholly in the sample, the rule before
        2026-11-27 21:30 UTC; 0: no event is split).
    split_rounds : int
        Rounds of step 11 in ``envtrace trace`` (a part may still hold two sources and be
        split again). 1 by default: each round ranks the parts again (at 1M complaints
        one run with two rounds took 62.9 s, one round 58.0–64.0 s); town-centre worlds
        gain little from a second (``benchmarks/results/attribution.md``). 0: no split.
    split_max_parts : int
        Step 11: at most this many parts per event in one round, the top suspect's
        included (4; 1: no split; 2 with ``split_reach = False`` is the rule before
        2026-11-28: one other source per round). A town
        centre's event can hold a plant's, a restaurant's and a transfer station's
        complaints; each further candidate takes the complaints it explains better than
        the part they are in (tuning worlds, ``urban``: 0.840 → 0.853 top-1, innocent
        10.2 → 9.3 %; 6 parts the same as 4).
    split_reach : bool
        Step 11: judge each complaint also by its own place, ``log Φ(−α ln(d_ij / L_j) /
        σ_Q) − log Φ(−α ln(d_j / L_j) / σ_Q)`` (step 5's reach at the complaint's
        distance ``d_ij`` against the event centre's ``d_j``): a complaint at a restaurant's
        door is the restaurant's likelier than the event's, one 2 km past the reach of a
        300 m source less. True since 2026-11-28 (tuning worlds: ``urban`` 0.853 → 0.862
        top-1, innocent 9.3 → 8.6 %; presets 0.821 → 0.828, 8.4 → 7.9 %; ``random`` 0.828
        → 0.827, 8.2 → 7.7 %); the one-sided form (only a penalty beyond the centre's
        distance, the conditional probability of reaching ``i`` given the centre) was a
        little worse on all three. Not used with ``emission_log_sd = 0`` (no reach
        probability then).
    split_words_per_person : bool
        Step 11: in a part's gain the words count once per complainant (``1 / n_calls``),
        at most ``odour_max_weight`` complainants' worth, as in the ranking (step 7c),
        not by the hour weights of the wind: each person chose their own words, while
        complaints of one hour share its wind. True since 2026-11-28 (tuning worlds:
        ``urban`` 0.876 → 0.887 top-1, innocent 8.5 → 7.7 %; presets 0.840 → 0.841, 7.0 %
        both; ``random`` 0.857 → 0.860, 6.5 → 6.7 %; uncapped: ``random`` innocent 7.1 %).
        Which complaints leave is decided as before; only the gain changes.
    split_detach_margin : float
        Step 11: a complaint of the wind sample that, after the parts are taken, some
        candidate still explains more than this many times better (likelihood ratio of
        ``s_ij``: wind, place, words) than the suspect of the part it is in leaves its
        event for none (``cluster_id`` ``-1``), when its part keeps
        ``split_min_complaints`` complainants, and when the complaints that candidate
        explains so much better are fewer than ``split_min_complaints`` complainants: one
        or two residents who could not make a part. A larger group stays (a later round,
        ``split_rounds``, may make it a part; or the prior judged its candidate
        implausible at the event, its gain below ``split_min_gain``). 20 (Kass and Raftery's "strong" evidence, ``2 ln LR > 6``); ``inf``:
        never (the rule before 2026-11-28 08:00 UTC). A town-centre event's chain of
        complaints picks up one or two residents who smelled another source; they were
        blamed on the event's suspect. Tuning worlds, top-1 / innocent blame, ``inf`` →
        20 (→ 10): ``urban`` 0.887 / 7.7 % → 0.890 / 6.9 % (0.893 / 6.7 %); presets
        0.841 / 7.0 % → 0.839 / 6.7 % (0.836 / 6.5 %); ``random`` 0.860 / 6.7 % → 0.857 /
        6.7 % (0.844 / 6.6 %): one complaint's wind and words mislead more often than an
        event's, so the bar is higher than the split's ``split_margin``.
    """

    max_distance_m: float = 20000.0
    max_candidates: int = 40
    max_complaints_wind: int = 200
    max_complaints_perm: int = 50
    lag_max_h: int = 6
    lag_tau_h: float = 1.5
    lag_max_h_late: int = 12
    lag_tau_h_late: float = 4.0
    late_channels: tuple[str, ...] = ("12345",)
    background_share: float = 0.2
    background_prior: float = 0.5
    hours_epsilon: float = 0.5
    hours_max_weight: float = 3.0
    alarm_window_h: float = 6.0
    alarm_episode_gap_h: float = 2.0
    eb_iterations: int = 1
    stratify_stability: bool = False
    same_hour_exponent: float = 1.0
    wind_autocorrelation: bool = True
    min_shift_days: int = 7
    perm_stop_alpha: float | None = 0.05
    top_k: int = 5
    emission_log_sd: float = 2.3
    distance_exponent: float = 1.8
    alarm_extra_mean: float = 1.0
    alarm_bypass: float = 0.5
    history_recall: float = 0.1
    response_exponent: float = 0.5
    complaint_hours_baseline: bool = False
    activity_baseline: bool = False
    history_window_days: float = 365.0
    time_cue_trust: float = 0.8
    lag_max_h_cue: int = 18
    alarm_shared_weight: float = 0.5
    triangulation_tau_days: tuple[float, ...] = (7.0, 14.0, 30.0, 60.0, 120.0, np.inf)
    nearest_candidates: int = 10
    odour_word_trust: float = 0.8
    odour_max_weight: float = 3.0
    odour_fit_margin: float = 20.0
    industry_from_name: bool = True
    directional_reach: bool = True
    wind_rotation_sd_deg: float = 0.0
    wind_rotation_step_deg: float = 10.0
    wind_rotation_max_deg: float = 40.0
    wind_rotation_events: int = 150
    wind_rotation_complaints: int = 40
    name_max_trust: float = 0.95
    name_max_weight: float = 3.0
    name_min_gain: float = 3.0
    name_scales_m: tuple[float, ...] = (250.0, 500.0, 1000.0, 2000.0)
    name_floor: float = 0.1
    name_neighbours: int = 64
    split_min_gain: float = 2.0
    split_margin: float = 2.0
    split_min_complaints: int = 3
    split_rounds: int = 1
    split_max_parts: int = 4
    split_reach: bool = True
    split_words_per_person: bool = True
    split_detach_margin: float = 20.0
    split_neighbour_m_per_h: float = 1000.0 / 24.0
    split_max_members: int = 400

    def __post_init__(self) -> None:
        _check_time_scales(self.triangulation_tau_days)
        if int(self.nearest_candidates) < 0 or int(self.max_candidates) < 1:
            raise InputError("max_candidates must be >= 1 and nearest_candidates >= 0")
        if not (0.0 <= float(self.odour_word_trust) < 1.0) or not float(self.odour_max_weight) >= 0.0:
            raise InputError("odour_word_trust must be in [0, 1) and odour_max_weight >= 0")
        if not float(self.split_detach_margin) >= 1.0:
            raise InputError("split_detach_margin must be >= 1 (inf: no complaint leaves for no event)")
        if (not float(self.split_margin) >= 1.0 or int(self.split_min_complaints) < 1
                or int(self.split_rounds) < 0 or int(self.split_max_parts) < 1):
            raise InputError("split_margin must be >= 1, split_min_complaints >= 1, split_rounds >= 0 "
                             "and split_max_parts >= 1")
        if (not 0.0 <= float(self.name_max_trust) < 1.0 or not float(self.name_max_weight) >= 0.0
                or not self.name_scales_m or min(float(x) for x in self.name_scales_m) <= 0
                or not 0.0 < float(self.name_floor) <= 1.0):
            raise InputError("name_max_trust must be in [0, 1), name_max_weight >= 0, "
                             "name_scales_m positive and name_floor in (0, 1]")
        if not float(self.split_neighbour_m_per_h) > 0 or int(self.split_max_members) < 0:
            raise InputError("split_neighbour_m_per_h must be > 0 and split_max_members >= 0")
        if not float(self.alarm_episode_gap_h) >= 0.0 or not float(self.odour_fit_margin) >= 1.0:
            raise InputError("alarm_episode_gap_h must be >= 0 and odour_fit_margin >= 1")
        if (not float(self.wind_rotation_sd_deg) >= 0.0 or not float(self.wind_rotation_step_deg) > 0.0
                or not float(self.wind_rotation_max_deg) >= 0.0 or int(self.wind_rotation_events) < 1
                or int(self.wind_rotation_complaints) < 1):
            raise InputError("wind_rotation_sd_deg and wind_rotation_max_deg must be >= 0, "
                             "wind_rotation_step_deg > 0, wind_rotation_events and "
                             "wind_rotation_complaints >= 1")


def _category_codes(ev_cat: Sequence[str]) -> np.ndarray:
    """Each event's category as its position in :data:`CATEGORIES` (-1: none of them),
    the column of the industry tables ``W`` and ``REACH``."""
    return np.array([CATEGORIES.index(c) if c in CATEGORIES else -1 for c in ev_cat], dtype=np.int64)


def _dense_unique(values: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_inverse=True)`` for integers in ``[0, size)`` (a hard
    requirement: negative values would wrap around, larger ones raise ``IndexError``), in
    O(n + size) instead of a sort: the distinct values (sorted) and each value's position
    among them. Used on the tens of millions of (candidate, complaint) rows at scale,
    where the sort took about a second per call."""
    v = np.asarray(values).ravel()
    if v.dtype.kind not in "iu":
        raise TypeError(f"_dense_unique needs integers in [0, size), not {v.dtype}")
    present = np.zeros(int(size), dtype=bool)
    present[v] = True
    uniq = np.flatnonzero(present).astype(v.dtype, copy=False)
    code = np.cumsum(present, dtype=np.intp) - 1
    return uniq, code[v]


def _check_time_scales(taus: Any) -> np.ndarray:
    """The triangulation's time scales as floats; positive days, ``inf`` allowed."""
    try:
        t = np.atleast_1d(np.asarray(taus, dtype=float))
    except (TypeError, ValueError):
        raise InputError(f"triangulation_tau_days: not a list of numbers: {taus!r}") from None
    if np.isnan(t).any() or (t <= 0).any():
        raise InputError("triangulation_tau_days: time scales must be positive days (inf allowed)")
    return t


# --------------------------------------------------------------------------- profiles
def load_industry_profiles() -> Any:
    """The bundled industry profiles (re-exported from :mod:`envtrace.profiles`)."""
    from envtrace import profiles

    return profiles.load_industry_profiles()


_DAY_HOURS = np.array([1.0 if 7 <= h < 19 else 0.0 for h in range(24)])
_NAMED_HOURS: dict[str, np.ndarray] = {
    "24h": np.ones(24), "seasonal": np.ones(24), "day": _DAY_HOURS,
    "night_possible": np.maximum(_DAY_HOURS, 0.5),
}


def _hours_mask(value: Any) -> np.ndarray:
    """Operating hours -> activity 0–1 per local hour (float[24]; all day if unknown).

    Accepts the profile names (``24h``, ``day`` = 7–19 h, ``night_possible`` = day plus
    half activity at night, ``seasonal`` = all day), ``"8-18"``, ``(start, end)``, a list of
    hours, or 24 values.
    """
    out = np.ones(24)
    if value is None:
        return out
    if isinstance(value, float) and not np.isfinite(value):
        return out
    if isinstance(value, str):
        txt = value.strip().replace("–", "-").replace("~", "-").lower()
        if txt in _NAMED_HOURS:
            return _NAMED_HOURS[txt].copy()
        if not txt or txt in {"all", "0-24", "always"}:
            return out
        try:
            a, b = (float(p.split(":")[0]) for p in txt.split("-", 1))
        except ValueError:
            return out
        value = (a, b)
    arr = np.asarray(value)
    if arr.size == 24 and (arr.dtype == bool or np.issubdtype(arr.dtype, np.floating)):
        return np.clip(arr.astype(float).ravel(), 0.0, 1.0)
    if arr.ndim == 1 and arr.size == 2 and np.issubdtype(arr.dtype, np.number):
        a, b = int(arr[0]) % 24, int(arr[1])
        if b - int(arr[0]) >= 24:
            return out
        b %= 24
        hours = np.arange(24)
        if a == b:
            return out
        m = (hours >= a) & (hours < b) if a < b else (hours >= a) | (hours < b)
        return m.astype(float)
    if arr.ndim == 1 and np.issubdtype(arr.dtype, np.integer):
        m = np.zeros(24)
        m[np.mod(arr.astype(int), 24)] = 1.0
        return m
    return out


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    if isinstance(obj, pd.Series):
        return obj.get(name, default)
    return getattr(obj, name, default)


def industry_table(codes: Any, *, profile_for: Any = None
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Profile arrays for the enterprises' industry codes.

    Parameters
    ----------
    codes : sequence of str
        GB/T 4754 codes (``""`` when unknown).
    profile_for : callable, optional
        ``codes -> rows`` with ``weights`` (or one column per category), ``reach_m``,
        ``operating_hours``, ``known``; default :func:`envtrace.profiles.profile_for`.

    Returns
    -------
    weights : ndarray, shape (n, 5)
        Weight 0–1 per category in :data:`CATEGORIES` order.
    reach_m : ndarray, shape (n,) or (n, 5)
        Reach in metres (per category where the profile gives one).
    hours : ndarray, shape (n, 24)
        Activity 0–1 per local hour.
    known : ndarray of bool, shape (n,)
    """
    if profile_for is None:
        from envtrace import profiles

        profile_for = profiles.profile_for
    codes = [("" if c is None or (isinstance(c, float) and np.isnan(c)) else str(c)) for c in codes]
    n = len(codes)
    weights = np.zeros((n, len(CATEGORIES)))
    reach = np.tile(np.array([_DEFAULT_REACH_M[k] for k in CATEGORIES]), (n, 1))
    hours = np.ones((n, 24))
    known = np.zeros(n, dtype=bool)
    uniq = sorted(set(codes))
    res = profile_for(uniq)
    if isinstance(res, pd.DataFrame):
        rows = [res.iloc[i] for i in range(len(res))]
    elif isinstance(res, Mapping):
        rows = [res[c] for c in uniq]
    else:
        rows = list(res)
    if len(rows) != len(uniq):
        raise InputError("industry profiles: profile_for returned the wrong number of rows")
    pos: dict[str, list[int]] = {}
    for i, c in enumerate(codes):
        pos.setdefault(c, []).append(i)
    for c, row in zip(uniq, rows, strict=True):
        w_src = _get(row, "weights", None)
        w = np.zeros(len(CATEGORIES))
        for m, k in enumerate(CATEGORIES):
            v = _get(w_src, k, None) if w_src is not None else _get(row, k, None)
            w[m] = float(v) if v is not None and np.isfinite(float(v)) else 0.0
        r_src = _get(row, "reach_m", None)
        r = np.array([_DEFAULT_REACH_M[k] for k in CATEGORIES])
        if isinstance(r_src, Mapping):
            for m, k in enumerate(CATEGORIES):
                if r_src.get(k) is not None:
                    r[m] = float(r_src[k])
        elif r_src is not None and np.isfinite(float(r_src)) and float(r_src) > 0:
            r[:] = float(r_src)
            r[CATEGORIES.index("noise")] = min(float(r_src), _DEFAULT_REACH_M["noise"] * 2)
        hm = _hours_mask(_get(row, "operating_hours", None))
        kn = bool(_get(row, "known", True))
        for i in pos[c]:
            weights[i] = w
            reach[i] = r
            hours[i] = hm
            known[i] = kn
    return weights, reach, hours, known


# --------------------------------------------------------------------------- plume
class _Sigmas:
    """Briggs sigmas from :mod:`envtrace.wind`, tabulated on a fine log-distance grid.

    4000 log-spaced distances from 1 m to 200 km (steps of 0.3 %), nearest grid point:
    the spreads are smooth, so the lookup error is below 0.2 %, and one gather per value
    is much cheaper than evaluating the power laws per class.
    """

    def __init__(self) -> None:
        from envtrace import wind

        self.lx0, self.lx1, self.n = np.log(1.0), np.log(2.0e5), 4000
        xs = np.exp(np.linspace(self.lx0, self.lx1, self.n))
        self.inv_step = (self.n - 1) / (self.lx1 - self.lx0)
        self.sy = np.concatenate([np.asarray(wind.sigma_y(xs, s), dtype=float) for s in STABILITY])
        self.sz = np.concatenate([np.asarray(wind.sigma_z(xs, s), dtype=float) for s in STABILITY])

    def index(self, x: np.ndarray, code: np.ndarray) -> np.ndarray:
        f = (np.log(np.clip(x, 1.0, 2.0e5)) - self.lx0) * self.inv_step + 0.5
        return f.astype(np.int64) + code * self.n

    def __call__(self, x: np.ndarray, code: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        i = self.index(x, code)
        return self.sy.take(i), self.sz.take(i)


_SIGMAS: _Sigmas | None = None
_KERNELS: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None


def _sigmas() -> _Sigmas:
    global _SIGMAS
    if _SIGMAS is None:
        _SIGMAS = _Sigmas()
    return _SIGMAS


def plume_concentration(
    dx: Any, dy: Any, wind_dir_deg: Any, wind_speed_ms: Any, stability: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Ground-level relative concentration at a receptor from a unit ground-level source.

    Parameters
    ----------
    dx, dy : array_like
        Receptor minus source, metres east and north.
    wind_dir_deg : array_like
        Direction the wind blows FROM, degrees from north; NaN = calm/variable.
    wind_speed_ms : array_like
        m/s; below 0.5 = calm; NaN with a direction is taken as 2 m/s.
    stability : array_like
        Pasquill class as letters ``A``–``F`` or integer codes 0–5 (unknown = ``D``;
        calm hours without a class are ``F``).

    Returns
    -------
    conc : ndarray
        Concentration per unit emission rate, s/m³ (see the module docstring).
    in_plume : ndarray of bool
        True where the receptor is downwind within ``|y| ≤ 2σy`` (not in calm hours).
    """
    dx, dy, th, u, st = (np.array(v) for v in np.broadcast_arrays(
        np.atleast_1d(np.asarray(dx, dtype=float)), np.atleast_1d(np.asarray(dy, dtype=float)),
        np.atleast_1d(np.asarray(wind_dir_deg, dtype=float)),
        np.atleast_1d(np.asarray(wind_speed_ms, dtype=float)), np.atleast_1d(_stab_codes(stability)),
    ))
    shape = np.broadcast_shapes(*(np.shape(v) for v in (dx, dy, th, u, st)))
    conc, inside = _plume(dx, dy, th, u, st)
    return conc.reshape(shape), inside.reshape(shape)


def _stab_codes(stability: Any) -> np.ndarray:
    s = np.asarray(stability)
    if np.issubdtype(s.dtype, np.integer):
        return np.where((s >= 0) & (s < 6), s, 3).astype(np.int64)
    flat = s.ravel().astype(object)
    out = np.array([STABILITY.find(str(v).strip().upper()) if isinstance(v, str) and len(str(v).strip()) == 1
                    else -1 for v in flat], dtype=np.int64)
    return out.reshape(s.shape)


def _plume(dx: np.ndarray, dy: np.ndarray, th: np.ndarray, u: np.ndarray, st: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray]:
    sig = _sigmas()
    calm = ~np.isfinite(th) | (np.isfinite(u) & (u < _CALM_MS))
    uu = np.where(np.isfinite(u), np.maximum(u, _U_MIN_MS), 2.0)
    phi = np.deg2rad(np.where(calm, 0.0, th) + 180.0)
    sphi, cphi = np.sin(phi), np.cos(phi)
    x = dx * sphi + dy * cphi
    y = dx * cphi - dy * sphi
    code = np.where(st < 0, 3, st)
    xe = np.maximum(x, 1.0)
    sy, sz = sig(xe, code)
    sy = np.maximum(sy, xe * _tan_meander(uu))
    sz = np.minimum(sz, _SIGMA_Z_MAX_M)
    q = y / sy
    conc = np.exp(-0.5 * q * q) / (np.pi * uu * sy * sz)
    down = x > 0
    conc = np.where(down, conc, 0.0)
    inside = down & (np.abs(q) <= 2.0) & ~calm
    if calm.any():
        dxc, dyc = np.broadcast_to(dx, calm.shape)[calm], np.broadcast_to(dy, calm.shape)[calm]
        d = np.maximum(np.hypot(dxc, dyc), 10.0)
        stc = st[calm]
        _, szc = sig(d, np.where(stc < 0, 5, stc))
        szc = np.minimum(szc, _SIGMA_Z_MAX_M)
        conc[calm] = np.sqrt(2.0 / np.pi) / (szc * _U_CALM_MS * 2.0 * np.pi * d)
    return conc, inside


def _plausibility(w: np.ndarray, d: np.ndarray, reach: np.ndarray, prm: AttributionParams
                  ) -> np.ndarray:
    """Prior plausibility ``a_j`` of step 5 from industry weight, distance and reach (metres).

    Emission-strength form: ``a = w · P(Q_j ≥ Q_needed(d))`` with ``ln Q_j`` normal around
    the emission that reaches the odour threshold at the reach ``L`` (sd ``σ_Q``) and
    ``Q_needed ∝ d^α``, i.e. ``a = w · Φ(-α ln(d / L) / σ_Q)``.
    """
    if prm.emission_log_sd <= 0:
        return w / (1.0 + (d / reach) ** 2)
    from scipy.special import ndtr

    return w * ndtr(-_reach_z(d, reach, prm))


def _reach_z(d: np.ndarray, reach: np.ndarray, prm: AttributionParams) -> np.ndarray:
    """``α ln(d / L) / σ_Q`` of step 5 (``d`` at least 1 m): the nuisance of an industry of
    reach ``L`` (metres) is noticed at ``d`` with probability ``Φ(−z)``."""
    return prm.distance_exponent * np.log(np.maximum(d, 1.0) / reach) / prm.emission_log_sd


def _directional_plausibility(a: np.ndarray, P_ev: np.ndarray, P_ent: np.ndarray, ev_cat: np.ndarray,
                              W: np.ndarray, REACH: np.ndarray, xy: tuple[np.ndarray, ...], wd: _Wind,
                              prm: AttributionParams) -> np.ndarray:
    """Step 5 with the wind rose: ``a_j`` of each (event, candidate) pair of a wind
    category at the *effective* distance ``d · ρ^(-1/α)``, ``ρ`` the long-run mean
    concentration from ``j`` at the event centre over its mean at that distance in all
    directions (:meth:`_Wind.mean_tables`): the listed reach is a typical plant's over
    all directions, and downwind of the prevailing wind (``ρ > 1``) its air arrives more
    often, upwind less. So ``z = α ln(d / L) / σ_Q − ln ρ / σ_Q``. Other pairs keep ``a``."""
    from scipy.special import ndtr

    ex, ey, vx, vy = xy
    cat = _category_codes(ev_cat)[P_ev]
    windy = np.isin(np.asarray(ev_cat, dtype=object)[P_ev], list(WIND_CATEGORIES))
    if not windy.any():
        return a
    pe, pj, pc = P_ev[windy], P_ent[windy], cat[windy]
    dx, dy = vx[pe] - ex[pj], vy[pe] - ey[pj]
    d = np.hypot(dx, dy)
    bearing = np.mod(np.rad2deg(np.arctan2(dx, dy)), 360.0)  # from the source to the event
    gidx, glist = _station_groups(wd, vx[pe], vy[pe])
    rho = np.ones(pe.size)
    for g, k in enumerate(glist):
        m = gidx == g
        b, iso = _polar_lookups(wd.mean_tables(k), d[m], bearing[m])
        rho[m] = np.where(iso > 0, b / np.where(iso > 0, iso, 1.0), 1.0)  # no air at all: 0
    z = _reach_z(d, REACH[pj, pc], prm) - np.log(np.clip(rho, 1e-3, 1e3)) / prm.emission_log_sd
    out = a.copy()
    out[windy] = W[pj, pc] * ndtr(-z)
    return out


def _rotated(wd: _Wind, deg: float) -> _Wind:
    """A copy of the wind record with every direction turned by ``deg`` (clockwise), its
    tables to be built again."""
    return replace(wd, dir=np.mod(wd.dir + deg, 360.0), groups={})


def _fit_wind_rotation(prm: AttributionParams, ev_cat: np.ndarray, used_idx: list[np.ndarray],
                       used_w: list[np.ndarray], pair_start: np.ndarray, P_ev: np.ndarray,
                       P_ent: np.ndarray, prior_for: Any, xy: tuple[np.ndarray, ...],
                       c_hour: np.ndarray, lag_cls: np.ndarray, lag_tab: np.ndarray,
                       closed_h: np.ndarray, wd: _Wind, ent_profile: np.ndarray | None) -> float:
    """The turn of the wind record's directions (degrees, a multiple of
    ``wind_rotation_step_deg``) that the complaints' timing supports best (step 3b).

    A station km away, in a valley or on an airfield, can read the wind at the complaints
    turned by tens of degrees, the same way for months. Each candidate turn ``θ`` is
    scored by the events' evidence ``Σ_e log((b + Σ_j a_je L_je(θ)) / (b + Σ_j a_je))`` (the timing
    likelihood of step 4 with the turned record; at most ``wind_rotation_events`` events of
    a wind category, the most complainants first, each its first ``wind_rotation_complaints``
    sampled complaints) plus the log prior ``−θ² / 2σ²``, ``σ = wind_rotation_sd_deg``;
    the smallest turn whose total is within one standard error of the best
    (:func:`_choose_time_scale`'s rule, the error from the events' paired differences).
    ``prior_for(wind)``: the pairs' plausibility ``a_je`` under a (turned) record (step 5's
    wind rose turns with it).
    """
    cx, cy, ex, ey = xy
    step = float(prm.wind_rotation_step_deg)
    lim = float(prm.wind_rotation_max_deg)
    n_steps = int(lim // step) if step > 0 else 0
    if n_steps < 1:
        return 0.0
    windy = np.array([c in WIND_CATEGORIES for c in ev_cat], dtype=bool) & (np.diff(pair_start) > 0)
    sizes = np.array([u.size for u in used_idx])
    cand = np.flatnonzero(windy & (sizes >= 3))
    if cand.size < 5:
        return 0.0
    take = cand[np.argsort(-sizes[cand], kind="stable")[: int(prm.wind_rotation_events)]]
    sub_idx = [np.zeros(0, dtype=np.int64)] * len(used_idx)
    sub_w = [np.zeros(0)] * len(used_idx)
    k = int(prm.wind_rotation_complaints)
    for e in take:
        sub_idx[e], sub_w[e] = used_idx[e][:k], used_w[e][:k]
    thetas = step * np.arange(-n_steps, n_steps + 1)  # multiples of the step, 0 among them
    levs: list[np.ndarray] = []
    for theta in thetas:
        w_t = wd if theta == 0 else _rotated(wd, float(theta))
        cache = _wind_structures(prm, ev_cat, sub_idx, sub_w, pair_start, P_ev, P_ent, cx, cy, ex, ey,
                                 c_hour, lag_cls, lag_tab, closed_h, w_t, ent_profile)
        if not cache:
            return 0.0
        lt = np.zeros(P_ev.size)
        lt[cache["pairs"]] = _time_term(cache, w_t)[0]
        a_t = prior_for(w_t)
        _, lev = _posterior(a_t, lt, pair_start, prm.background_prior, log_evidence=True)
        # over the prior mass: the wind rose turns with the record and moves the candidates'
        # plausibility, which says nothing of the complaints' timing
        _, lev0 = _posterior(a_t, np.zeros(lt.size), pair_start, prm.background_prior, log_evidence=True)
        # the prior on the turn, shared out over the events
        levs.append(lev[take] - lev0[take] - 0.5 * (theta / prm.wind_rotation_sd_deg) ** 2 / take.size)
    # the one-standard-error rule: the smallest turn within one SE of the best (a turn
    # must earn its place; differences of a fraction of a nat per event are noise)
    return float(thetas[_choose_time_scale(-np.abs(thetas), levs)])


def _window_cover(t_sorted: np.ndarray, win: float) -> float:
    """Hours covered by the union of the windows ``[t - win, t]`` (sorted ``t``, hours)."""
    return float(win + np.minimum(np.diff(t_sorted), win).sum())


def _alarm_log_bf(n: int, mu0: float, prm: AttributionParams) -> float:
    """log Bayes factor of ``n`` alarms in an event's windows (step 7).

    Background: ``n ~ Poisson(mu0)`` (the enterprise's baseline rate times the hours
    covered). Source: the baseline plus a geometric number of extra alarms with mean ``m``
    (an exponential mixture of Poisson rates), except that with probability ``β`` the
    emission bypasses the monitor and only the baseline remains.
    """
    m, beta = prm.alarm_extra_mean, prm.alarm_bypass
    if m <= 0:
        return float(np.log((n + 1.0) / (mu0 + 1.0)))
    if n == 0:
        return float(np.log(beta + (1.0 - beta) / (1.0 + m)))
    from scipy.special import gammaln

    mu0 = max(float(mu0), 1e-12)
    k = np.arange(n + 1, dtype=float)
    # log P(k baseline) + log P(n - k extra); the baseline pmf of n divides out below
    lpk = k * np.log(mu0) - mu0 - gammaln(k + 1.0)
    lgeo = (n - k) * np.log(m / (1.0 + m)) - np.log1p(m)
    lp0 = n * np.log(mu0) - mu0 - gammaln(n + 1.0)
    l1 = float(np.logaddexp.reduce(lpk + lgeo)) - lp0
    return float(np.logaddexp(np.log(beta), np.log1p(-beta) + l1))


def lag_prior(max_h: int, tau_h: float) -> np.ndarray:
    """Reporting-lag prior ``p(h) ∝ exp(-h / tau_h)`` for ``h = 0 … max_h`` hours (sums to 1)."""
    h = np.arange(int(max_h) + 1, dtype=float)
    p = np.exp(-h / float(tau_h))
    return p / p.sum()


def _in_window(hours_mask: int, hod: int, lags: np.ndarray) -> np.ndarray:
    """Whether the local hour ``lags`` hours before hour of day ``hod`` is in the mask."""
    return ((int(hours_mask) >> np.mod(int(hod) - lags, 24)) & 1).astype(bool)


def lag_weights(hod: int, hours_mask: int, prior: np.ndarray, *, max_h: int,
                trust: float) -> np.ndarray:
    """Reporting-lag weights ``p(h)``, ``h = 0 … max_h`` hours, of one complaint (step 2).

    Parameters
    ----------
    hod : int
        Local hour of day (0–23) in which the complaint was received.
    hours_mask : int
        Local hours at which its text says the nuisance was noticed (bit ``h`` set: hour
        ``h``; :func:`envtrace.classify.noticed_hours`); 0 when the text names no time.
    prior : ndarray
        The channel's lag prior (:func:`lag_prior`), at most ``max_h + 1`` long.
    max_h : int
        Longest lag (hours).
    trust : float
        Probability that the time word is right; the rest of the weight keeps ``prior``.

    Returns
    -------
    ndarray, ``max_h + 1`` weights summing to 1.

    Notes
    -----
    If the receipt hour lies in the text's window (``半夜`` phoned in at 23:40), the smell
    is the ongoing one: ``prior`` restricted to lag hours inside the window. Otherwise it
    was reported later (``凌晨`` phoned in at 08:30, as night smells often are): the lag
    is spread evenly over the most recent run of window hours before receipt (00:00–05:59
    here is h = 3 … 8), as nothing says when in the night it was. A run only partly within
    ``max_h`` hours keeps its reachable part with ``trust`` times the reachable share; a
    window wholly out of reach leaves ``prior``. The local hour ``h`` hours back is taken
    as ``(hod − h) mod 24``: one hour off across a daylight-saving change.
    """
    p0 = np.zeros(int(max_h) + 1)
    p0[: min(prior.size, p0.size)] = prior[: p0.size]
    p0 = p0 / p0.sum()
    if not hours_mask or trust <= 0:
        return p0
    allowed = _in_window(hours_mask, hod, np.arange(p0.size + 24))  # a day beyond max_h:
    # where the run really ends
    trust = float(trust)
    if allowed[0]:
        q = np.where(allowed[: p0.size], p0, 0.0)
    elif allowed[: p0.size].any():
        h1 = int(np.argmax(allowed))
        run = ~allowed[h1:]
        h2 = h1 + (int(np.argmax(run)) if run.any() else run.size)
        q = np.zeros(p0.size)
        q[h1:min(h2, p0.size)] = 1.0
        trust *= (min(h2, p0.size) - h1) / (h2 - h1)  # only the reachable part of the run
    else:
        return p0
    if q.sum() <= 0:
        return p0
    return trust * q / q.sum() + (1.0 - trust) * p0


def time_word_agreement(hod: np.ndarray, masks: np.ndarray, *, after_h: int = 6
                        ) -> tuple[float, float]:
    """How often the texts' time words agree with the receipt hours, and by chance.

    A complaint agrees when it was received inside its text's window of hours or at most
    ``after_h`` hours after it (``凌晨`` phoned in at 08:30 agrees; ``白天`` at 03:00 does
    not). The chance rate pairs every receipt hour with every text's window (the windows
    shuffled among the complaints).

    Parameters
    ----------
    hod : ndarray of int
        Local receipt hour (0–23) of the complaints with a time word.
    masks : ndarray of int
        Their windows (:func:`envtrace.classify.noticed_hours`, non-zero).
    after_h : int
        Hours after the window that still agree.

    Returns
    -------
    agreement, chance : float
        Shares in [0, 1] (NaN, NaN without complaints).
    """
    hod = np.asarray(hod, dtype=np.int64)
    masks = np.asarray(masks, dtype=np.int64)
    if hod.size == 0:
        return float("nan"), float("nan")
    umask, minv = np.unique(masks, return_inverse=True)
    # ok[m, h]: window m agrees with receipt hour h
    lags = np.arange(after_h + 1)
    ok = np.zeros((umask.size, 24), dtype=bool)
    for m, mk in enumerate(umask):
        for h in range(24):
            ok[m, h] = bool(_in_window(int(mk), h, lags).any())
    agree = float(ok[minv.reshape(-1), hod].mean())
    chance = float(np.bincount(minv.reshape(-1), minlength=umask.size) @ ok
                   @ np.bincount(hod, minlength=24)) / hod.size ** 2
    return agree, chance


def time_word_trust(hod: np.ndarray, masks: np.ndarray, *, cap: float, prior_n: float = 20.0
                    ) -> float:
    """Probability that the texts' time words are right, estimated from the texts (step 2).

    If a share ``t`` of the time words is right and the rest say nothing about when, the
    agreement rate of :func:`time_word_agreement` is ``a = t + (1 − t) a0`` (``a0`` the
    chance rate, under which right words may also agree), so ``t̂ = (a − a0) / (1 − a0)``;
    shrunk towards ``cap`` with the weight of ``prior_n`` complaints and at most ``cap``.
    On generated worlds ``t̂`` is 0.71–0.77; with the time words swapped at random among
    the complaints it is 0.01–0.05, and the texts are then (nearly) ignored.
    """
    n = int(np.count_nonzero(masks))
    if n == 0:
        return 0.0
    a, a0 = time_word_agreement(hod[masks != 0], masks[masks != 0])
    t_hat = cap if a0 >= 1.0 - 1e-9 else float(np.clip((a - a0) / (1.0 - a0), 0.0, 1.0))
    return float(min(cap, (n * t_hat + prior_n * cap) / (n + prior_n)))


def _lag_classes(late: np.ndarray, hod: np.ndarray, masks: np.ndarray, prm: AttributionParams,
                 trust: float) -> tuple[np.ndarray, np.ndarray]:
    """Lag-weight class of each complaint and the classes' weights ``(n_classes, H + 1)``.

    A class is (late channel, receipt hour of day, text's hour window); complaints without
    a time word fall in one class per channel kind whatever their hour.
    """
    cue = masks != 0
    # one int64 key: mask (24 bits) | hour + 1 (5 bits) | late (1 bit)
    key = (np.where(cue, masks, 0).astype(np.int64)
           | (np.where(cue, hod, -1).astype(np.int64) + 1) << 24
           | late.astype(np.int64) << 29)
    ukey, cls = np.unique(key, return_inverse=True)
    priors = (lag_prior(prm.lag_max_h, prm.lag_tau_h), lag_prior(prm.lag_max_h_late, prm.lag_tau_h_late))
    H = max(prm.lag_max_h, prm.lag_max_h_late, prm.lag_max_h_cue)
    tab = np.stack([lag_weights(int((k >> 24) & 31) - 1, int(k & 0xFFFFFF), priors[int(k >> 29)],
                                max_h=H, trust=trust)
                    for k in ukey]) if len(ukey) else np.zeros((0, H + 1))
    # trailing lags nobody uses cost a pass each in _exposure
    last = int(np.flatnonzero(tab.any(axis=0)).max()) if tab.size else 0
    return cls.reshape(-1), tab[:, : last + 1]


# --------------------------------------------------------------------------- wind
@dataclass
class _WindGroup:
    """Composite hourly wind for receptors sharing one station ranking."""

    dir: np.ndarray
    spd: np.ndarray
    stab: np.ndarray
    valid: np.ndarray
    table_b: np.ndarray | None = None  # (6, r, a): mean C over the hours of each stability
    table_u: np.ndarray | None = None  # (r, a): share of all hours in the plume
    b_all: np.ndarray | None = None  # (r, a): mean C over all hours
    b_prof: dict[int, np.ndarray] = field(default_factory=dict)  # (r, a) per operating profile
    mean_c: tuple[np.ndarray, np.ndarray] | None = None  # mean C (γ = 1) and its mean over bearings


@dataclass
class _Wind:
    h0: int
    n_hours: int
    stations: list[str]
    st_xy: np.ndarray  # (S, 2), NaN when unknown
    dir: np.ndarray  # (S, H)
    spd: np.ndarray
    stab: np.ndarray
    valid: np.ndarray
    groups: dict[tuple[int, ...], _WindGroup] = field(default_factory=dict)
    gamma: float = 1.0  # response exponent of step 3: the tables hold the mean of C^gamma
    hour_w: np.ndarray | None = None  # (H,) weight of each wind hour in B (None: all equal)
    hod: np.ndarray | None = None  # (H,) local hour of day of each wind hour (activity baselines)
    profiles: list[np.ndarray] = field(default_factory=list)  # hour-of-day weights [24]; index 0: none

    def group(self, key: tuple[int, ...]) -> _WindGroup:
        g = self.groups.get(key)
        if g is None:
            d = np.full(self.n_hours, np.nan)
            s = np.full(self.n_hours, np.nan)
            c = np.full(self.n_hours, -1, dtype=np.int64)
            v = np.zeros(self.n_hours, dtype=bool)
            for k in key:
                take = ~v & self.valid[k]
                d[take], s[take], c[take] = self.dir[k, take], self.spd[k, take], self.stab[k, take]
                v |= take
            g = _WindGroup(d, s, c, v)
            _polar_tables(g, gamma=self.gamma, hour_w=self.hour_w)
            self.groups[key] = g
        return g

    def mean_tables(self, key: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
        """Long-run mean concentration (``γ = 1``, all hours alike) on the polar grid, and
        its mean over all bearings at each distance (same shape), for step 5's wind rose."""
        g = self.group(key)
        if g.mean_c is None:
            b = _mean_table(g, gamma=1.0)
            g.mean_c = (b, np.broadcast_to(b.mean(axis=1, keepdims=True), b.shape).copy())
        return g.mean_c

    def b_table(self, key: tuple[int, ...], profile: int) -> np.ndarray:
        """Mean ``C^γ`` on the polar grid over the hours weighted by an operating profile.

        ``profile`` indexes :attr:`profiles` (weights per local hour of day); 0, or no
        local hours known, is the plain mean of the group (``b_all``).
        """
        g = self.group(key)
        if profile == 0 or self.hod is None:
            assert g.b_all is not None
            return g.b_all
        b = g.b_prof.get(profile)
        if b is None:
            hw = np.asarray(self.profiles[profile], dtype=float)[self.hod]
            if self.hour_w is not None:
                hw = hw * self.hour_w
            b = g.b_prof[profile] = _mean_table(g, gamma=self.gamma, hour_w=hw)
        return b


def _mean_table(g: _WindGroup, *, gamma: float, hour_w: np.ndarray | None = None) -> np.ndarray:
    """The long-run mean ``C^γ`` of :func:`_polar_tables` for the group's record with other
    weights, leaving the group's own tables as they are."""
    tmp = _WindGroup(g.dir, g.spd, g.stab, g.valid)
    _polar_tables(tmp, gamma=gamma, hour_w=hour_w)
    assert tmp.b_all is not None
    return tmp.b_all


_POLAR_R = np.exp(np.linspace(np.log(10.0), np.log(80000.0), 80))
_POLAR_A = np.arange(72) * 5.0


def _polar_kernels() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit-speed plume on the polar grid, per stability, speed class and relative angle.

    Returns ``K[s, c, r, k]`` (concentration × m/s at distance ``_POLAR_R[r]`` and angle
    ``5k°`` off the plume axis, with the meander of speed class ``c``), ``I[s, c, r, k]``
    (in-plume flag) and ``Kc[s, r]`` (calm).
    """
    global _KERNELS
    if _KERNELS is None:
        rr, kk = np.meshgrid(_POLAR_R, np.deg2rad(_POLAR_A), indexing="ij")
        # receptor at angle k off the axis of a plume travelling north (wind from 180°)
        px, py = rr * np.sin(kk), rr * np.cos(kk)
        nc = _U_CLASS_SPEED.size
        K = np.zeros((6, nc, *rr.shape))
        ind = np.zeros((6, nc, *rr.shape))
        Kc = np.zeros((6, _POLAR_R.size))
        for si in range(6):
            for ci, uc in enumerate(_U_CLASS_SPEED):  # the meander depends on the speed
                c, ins = _plume(px, py, np.full(rr.shape, 180.0), np.full(rr.shape, uc),
                                np.full(rr.shape, si, dtype=np.int64))
                K[si, ci], ind[si, ci] = c * uc, ins
            cc, _ = _plume(_POLAR_R, np.zeros(_POLAR_R.size), np.full(_POLAR_R.size, np.nan),
                           np.zeros(_POLAR_R.size), np.full(_POLAR_R.size, si, dtype=np.int64))
            Kc[si] = cc
        _KERNELS = (K, ind, Kc)
    return _KERNELS


def _polar_tables(g: _WindGroup, *, gamma: float = 1.0, hour_w: np.ndarray | None = None) -> None:
    """Long-run mean response B and in-plume share on the polar grid (step 3).

    ``C`` scales as ``1/u`` at fixed geometry, stability and meander, so ``C^γ`` scales as
    ``u^-γ`` and the wind record reduces to the weights ``Σ w_t u^-γ`` per (5° direction
    bin, stability, speed class), ``w_t`` the hour's weight (``hour_w``: how likely people
    are to complain at that hour of day; 1 for all when None); B is a circular convolution
    of those weights with the unit-speed kernel ``K^γ`` of each class: exact in speed up to
    the meander's class, 5° in direction. The in-plume share counts all hours equally.
    """
    n_r, n_a = _POLAR_R.size, _POLAR_A.size
    v = g.valid
    if not v.any():
        g.table_b = np.zeros((6, n_r, n_a))
        g.table_u = np.zeros((n_r, n_a))
        g.b_all = np.zeros((n_r, n_a))
        return
    th, u, st = g.dir[v], g.spd[v], g.stab[v]
    hw = np.ones(int(v.sum())) if hour_w is None else np.asarray(hour_w, dtype=float)[v]
    n = float(v.sum())
    n_w = float(hw.sum())
    calm = ~np.isfinite(th) | (np.isfinite(u) & (u < _CALM_MS))
    ueff = np.where(np.isfinite(u), np.maximum(u, _U_MIN_MS), 2.0)
    dbin = np.floor(np.mod(np.nan_to_num(th) + 2.5, 360.0) / 5.0).astype(np.int64) % n_a
    s_pl = np.where(st < 0, 3, st)
    s_calm = np.where(st < 0, 5, st)
    K, ind, Kc = _polar_kernels()
    if gamma != 1.0:
        K, Kc = K ** gamma, Kc ** gamma
    nc = _U_CLASS_SPEED.size
    ucls = np.clip(np.searchsorted(_U_CLASS_EDGES, ueff, side="right") - 1, 0, nc - 1)
    w_c = np.zeros((6, nc, n_a))  # Σ w u^-γ per stability, speed class and direction bin
    w_n = np.zeros((6, nc, n_a))  # hour counts
    w_h = np.zeros(6)  # Σ w per stability
    m = ~calm
    np.add.at(w_c, (s_pl[m], ucls[m], dbin[m]), hw[m] * ueff[m] ** -gamma)
    np.add.at(w_n, (s_pl[m], ucls[m], dbin[m]), 1.0)
    np.add.at(w_h, s_pl[m], hw[m])
    calm_n = np.bincount(s_calm[calm], weights=hw[calm], minlength=6)
    # receptor bearing a (from the source), wind FROM bin b: off-axis angle a - b - 180°
    idx = (np.arange(n_a)[:, None] - np.arange(n_a)[None, :] - n_a // 2) % n_a
    tb = np.zeros((6, n_r, n_a))
    tu = np.zeros((n_r, n_a))
    n_s = w_h + calm_n  # weighted hours per (effective) stability class
    for si in range(6):
        for ci in range(nc):
            if w_n[si, ci].any():
                tb[si] += np.einsum("rab,b->ra", K[si, ci][:, idx], w_c[si, ci])
                tu += np.einsum("rab,b->ra", ind[si, ci][:, idx], w_n[si, ci]) / n
        if calm_n[si]:
            # Kc already holds the calm-hour concentration (÷ 0.5 m/s inside _plume)
            tb[si] += (Kc[si] * calm_n[si])[:, None]
    g.b_all = tb.sum(axis=0) / max(n_w, 1e-300)
    g.table_b = tb / np.where(n_s > 0, n_s, 1.0)[:, None, None]
    g.table_u = tu


def _polar_lookup(table: np.ndarray, dist: np.ndarray, bearing: np.ndarray) -> np.ndarray:
    return _polar_lookups((table,), dist, bearing)[0]


def _polar_lookups(tables: tuple[np.ndarray, ...], dist: np.ndarray, bearing: np.ndarray
                   ) -> list[np.ndarray]:
    """Bilinear lookup of several ``(r, a)`` polar tables at the same points (shared indices)."""
    lr = np.log(np.clip(dist, _POLAR_R[0], _POLAR_R[-1]))
    step = (np.log(_POLAR_R[-1]) - np.log(_POLAR_R[0])) / (_POLAR_R.size - 1)
    f = (lr - np.log(_POLAR_R[0])) / step
    del lr
    i0 = np.minimum(f.astype(np.int64), _POLAR_R.size - 2)
    t = f - i0
    del f
    g = np.mod(bearing, 360.0) / 5.0
    j0 = np.floor(g).astype(np.int64) % 72
    j1 = (j0 + 1) % 72
    s = g - np.floor(g)
    del g
    n_a = _POLAR_A.size
    i0 *= n_a  # flat indices; temporaries freed as we go (tens of millions of points at scale)
    k00, k01 = i0 + j0, i0 + j1
    del i0, j0, j1
    t1, s1 = 1 - t, 1 - s
    out = []
    for table in tables:
        tf = np.ascontiguousarray(table).reshape(-1)
        out.append(tf.take(k00) * t1 * s1 + tf.take(k00 + n_a) * t * s1
                   + tf.take(k01) * t1 * s + tf.take(k01 + n_a) * t * s)
    return out


def wind_direction_autocorrelation(direction_deg: Any, *, max_lag_h: int = 72) -> np.ndarray:
    """Autocorrelation ``ρ(k)``, ``k = 0 … max_lag_h`` hours, of an hourly wind direction.

    Circular: ``r(k)`` is the mean of ``cos(θ_t − θ_t+k)`` over pairs of valid hours, and
    ``ρ = (r − R̄²) / (1 − R̄²)`` with ``R̄`` the mean resultant length, so a prevailing
    wind (``R̄ > 0``) does not count as memory. Cut to 0 from the first lag where it
    falls to 0 or below (the usual truncation of an integral time scale); NaN
    directions (calms, gaps) are skipped.
    """
    th = np.deg2rad(np.asarray(direction_deg, dtype=float))
    ok = np.isfinite(th)
    c, s_ = np.where(ok, np.cos(th), 0.0), np.where(ok, np.sin(th), 0.0)
    rho = np.zeros(max_lag_h + 1)
    rho[0] = 1.0
    n_ok = int(ok.sum())
    if n_ok < 2:
        return rho
    rbar2 = (c.sum() ** 2 + s_.sum() ** 2) / n_ok ** 2
    if rbar2 >= 1.0 - 1e-9:  # one direction all the time: no fluctuation to correlate
        return rho
    for k in range(1, min(max_lag_h, th.size - 1) + 1):
        both = ok[:-k] & ok[k:]
        nb = int(both.sum())
        if nb < 2:
            break
        r = float((c[:-k] * c[k:] + s_[:-k] * s_[k:])[both].sum() / nb)
        v = (r - rbar2) / (1.0 - rbar2)
        if v <= 0:
            break
        rho[k] = min(v, 1.0)
    return rho


def _complaint_weights(used_idx: list[np.ndarray], ckey: np.ndarray, c_hour: np.ndarray,
                       rho: np.ndarray | None, same_hour_exponent: float) -> list[np.ndarray]:
    """Weights ``v_i`` of step 4 for every event's complaints, all events at once.

    Repeat calls of one complainant (``ckey`` code ≥ 0) within an event share one unit;
    ``n`` complaints of one hour weigh ``n^(1 - same_hour_exponent)`` together; each
    distinct hour then weighs ``1 / Σ_h' ρ(|h − h'|)`` over the event's distinct hours
    (each ``h ± lag`` looked up among the sorted (event, hour) keys, for all events at once).
    """
    sizes = np.array([m.size for m in used_idx], dtype=np.int64)
    if not sizes.sum():
        return [np.ones(0) for _ in used_idx]
    ev_of = np.repeat(np.arange(sizes.size, dtype=np.int64), sizes)
    comp = np.concatenate(used_idx)
    w = np.ones(comp.size)
    k = ckey[comp]
    named = k >= 0
    if named.any():
        _, inv, cnt = np.unique(ev_of[named] * (int(k.max()) + 1) + k[named],
                                return_inverse=True, return_counts=True)
        w[named] = 1.0 / cnt[inv.reshape(-1)]
    if same_hour_exponent > 0:
        lmax = 0 if rho is None else rho.size - 1
        hh = c_hour[comp].astype(np.int64)
        hh = hh - hh.min() + lmax  # ≥ lmax, so that h ± lag stays in the event's block
        span = int(hh.max()) + lmax + 1
        ukey, inv, cnt = np.unique(ev_of * span + hh, return_inverse=True, return_counts=True)
        inv = inv.reshape(-1)
        w = w / cnt[inv] ** same_hour_exponent
        if rho is not None and lmax > 0:
            # Σ over the event's distinct hours h' of ρ(|h − h'|): look up h ± lag
            tot = np.full(ukey.size, float(rho[0]))
            for lag in range(1, lmax + 1):
                if rho[lag] == 0:
                    continue
                for sgn in (-1, 1):
                    q = ukey + sgn * lag
                    pos = np.minimum(np.searchsorted(ukey, q), ukey.size - 1)
                    tot += rho[lag] * (ukey[pos] == q)
            w = w / tot[inv]
    return np.split(w, np.cumsum(sizes)[:-1])


def _hour_index(times: Any) -> np.ndarray:
    """Aware (or naive UTC) datetimes -> integer hours since the epoch (floor)."""
    s = pd.Series(times)
    if s.empty:
        return np.zeros(0, dtype=np.int64)
    if not isinstance(s.dtype, pd.DatetimeTZDtype):
        s = pd.to_datetime(s, utc=True, errors="coerce")
    ns = s.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[ns]").to_numpy().astype("int64")
    bad = s.isna().to_numpy()
    h = np.floor_divide(ns, 3_600_000_000_000)
    return np.where(bad, np.iinfo(np.int64).min, h)


def _prepare_wind(wind: pd.DataFrame | None, crs: Any) -> _Wind | None:
    if wind is None or len(wind) == 0:
        return None
    need = {"time", "wind_dir_deg", "wind_speed_ms"}
    if not need.issubset(wind.columns):
        raise InputError(f"wind: missing column(s) {', '.join(sorted(need - set(wind.columns)))}")
    w = wind
    hours = _hour_index(w["time"])
    ok = hours != np.iinfo(np.int64).min
    if not ok.any():
        return None
    th = pd.to_numeric(w["wind_dir_deg"], errors="coerce").to_numpy(dtype=float)
    u = pd.to_numeric(w["wind_speed_ms"], errors="coerce").to_numpy(dtype=float)
    if "stability" in w.columns:
        st = _stab_codes(w["stability"].fillna("").astype(str).to_numpy())
    else:
        st = np.full(len(w), -1, dtype=np.int64)
    if (st < 0).any():
        from envtrace import wind as windmod

        lat = pd.to_numeric(w["lat"], errors="coerce") if "lat" in w.columns else pd.Series(np.nan, index=w.index)
        lon = pd.to_numeric(w["lon"], errors="coerce") if "lon" in w.columns else pd.Series(np.nan, index=w.index)
        lat0 = float(lat.median()) if lat.notna().any() else 30.0
        lon0 = float(lon.median()) if lon.notna().any() else 115.0
        miss = (st < 0) & ok
        if miss.any():
            t = pd.Series(w["time"]).iloc[np.flatnonzero(miss)]
            est = windmod.estimate_stability(t.to_numpy(), u[miss], lat=lat0, lon=lon0)
            st[miss] = _stab_codes(np.asarray(est, dtype=object))
    sid = (w["station_id"].fillna("").astype(str).to_numpy() if "station_id" in w.columns
           else np.full(len(w), "", dtype=object))
    stations = sorted(set(sid[ok].tolist()))
    s_index = {s: i for i, s in enumerate(stations)}
    h0 = int(hours[ok].min())
    n_hours = int(hours[ok].max()) - h0 + 1
    n_hours = int(np.ceil(n_hours / 24.0) * 24)  # whole days: circular day shifts keep the cycle
    S = len(stations)
    D = np.full((S, n_hours), np.nan)
    U = np.full((S, n_hours), np.nan)
    C = np.full((S, n_hours), -1, dtype=np.int64)
    V = np.zeros((S, n_hours), dtype=bool)
    si = np.array([s_index.get(s, -1) for s in sid], dtype=np.int64)
    usable = ok & (np.isfinite(th) | np.isfinite(u))
    hi = hours[usable] - h0
    D[si[usable], hi] = th[usable]
    U[si[usable], hi] = u[usable]
    C[si[usable], hi] = st[usable]
    V[si[usable], hi] = True
    st_xy = np.full((S, 2), np.nan)
    if "lon" in w.columns and "lat" in w.columns:
        lon = pd.to_numeric(w["lon"], errors="coerce").to_numpy(dtype=float)
        lat = pd.to_numeric(w["lat"], errors="coerce").to_numpy(dtype=float)
        for s, i in s_index.items():
            m = (sid == s) & np.isfinite(lon) & np.isfinite(lat)
            if m.any():
                x, y = geo.project(np.nanmedian(lon[m]), np.nanmedian(lat[m]), crs)
                st_xy[i] = (float(x), float(y))
    if not V.any():
        return None
    return _Wind(h0, n_hours, stations, st_xy, D, U, C, V)


def _complaint_hour_weights(wd: _Wind, c_hour: np.ndarray, c_hod: np.ndarray) -> np.ndarray | None:
    """Weight of each wind hour in the baseline B: the share of the record's complaints made
    at its local hour of day (circularly smoothed over ±1 h, floored at a tenth of the
    mean), scaled to mean 1. Under the background hypothesis complaint times follow this
    profile, so ``E[R] = 1`` holds over complaint times rather than over all hours."""
    if c_hour.size < 24:
        return None
    cnt = np.bincount(c_hod.astype(np.int64) % 24, minlength=24).astype(float)
    sm = (np.roll(cnt, 1) + 2 * cnt + np.roll(cnt, -1)) / 4.0
    sm = np.maximum(sm / sm.mean(), 0.1)
    w = sm[_wind_local_hours(wd, c_hour, c_hod)]
    return w / w.mean()


def _operating_profiles(wd: _Wind, hours: np.ndarray, eps: float) -> np.ndarray:
    """Set ``wd.profiles`` to the distinct hour-of-day weights ``ε + (1 − ε)·a`` of the
    enterprises' operating hours (``hours``, ``(n_ent, 24)`` activity 0–1) and return each
    enterprise's index into them; 0 (no weights) for those working all hours."""
    w = eps + (1.0 - eps) * np.asarray(hours, dtype=float)
    flat = np.all(np.isclose(w, w[:, :1]), axis=1)  # the same weight every hour: plain mean
    uq, inv = np.unique(np.round(w, 6), axis=0, return_inverse=True)
    wd.profiles = [np.ones(24)] + [row for row in uq]
    idx = inv.reshape(-1) + 1
    idx[flat] = 0
    return idx.astype(np.int64)


def _wind_local_hours(wd: _Wind, c_hour: np.ndarray, c_hod: np.ndarray) -> np.ndarray:
    """Local hour of day (0–23) of each wind hour, by the zone's usual offset from UTC in
    the complaints (``c_hour`` hours since the epoch, ``c_hod`` their local hour of day);
    UTC when there are none."""
    offset = 0
    if c_hour.size:
        off = np.bincount(np.mod(c_hod.astype(np.int64) - np.mod(c_hour, 24), 24), minlength=24)
        offset = int(np.argmax(off))  # whole hours
    return np.mod(wd.h0 + np.arange(wd.n_hours) + offset, 24)


def _station_groups(wd: _Wind, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, list[tuple[int, ...]]]:
    """Station group of each point: its stations ordered by distance (nearest first).

    Returns the group index per point and the groups, numbered in order of first
    appearance. Stations without a position come last, in station order.
    """
    S = len(wd.stations)
    if S == 1 or len(x) == 0:
        return np.zeros(len(x), dtype=np.int64), [(0,)] if S == 1 else []
    known = np.isfinite(wd.st_xy[:, 0])
    d = np.hypot(x[:, None] - wd.st_xy[None, :, 0], y[:, None] - wd.st_xy[None, :, 1])
    d = np.where(known[None, :], d, 1e18 + np.arange(S)[None, :])
    order = np.argsort(d, axis=1, kind="stable")
    uniq, first, inv = np.unique(order, axis=0, return_index=True, return_inverse=True)
    by_first = np.argsort(first, kind="stable")  # number the groups by first appearance
    rank = np.empty_like(by_first)
    rank[by_first] = np.arange(by_first.size)
    return rank[inv.reshape(-1)].astype(np.int64), [tuple(int(v) for v in uniq[i]) for i in by_first]


# --------------------------------------------------------------------------- helpers
def _compass(bearing: float, lang: str) -> str:
    if not np.isfinite(bearing):
        return ""
    i = int(np.floor(np.mod(bearing + 22.5, 360.0) / 45.0)) % 8
    return (_COMPASS_ZH if lang == "zh" else _COMPASS_EN)[i]


def _fmt_distance(d: float, lang: str) -> str:
    if d >= 1000:
        return f"{d / 1000:.1f} km" if lang != "zh" else f"{d / 1000:.1f}千米"
    return f"{d:.0f} m" if lang != "zh" else f"{d:.0f}米"


def _fmt_p(p: float) -> str:
    if not np.isfinite(p):
        return ""
    return f"p={p:.3f}" if p >= 0.001 else f"p={p:.1e}"


def _pollutant_relevant(pollutant: str, category: str, weights: np.ndarray | None = None,
                        *, shared: float = 0.5) -> bool:
    """Can an alarm of ``pollutant`` say something about a ``category`` nuisance?

    Yes when the pollutant is of that category (VOCs, H2S for odour; COD for water), when
    it is unknown or unclassified, or when the enterprise's industry ``weights`` (0–1 per
    :data:`CATEGORIES`) say it causes that category and one of the pollutant's categories
    strongly (both >= ``shared``, any two categories): then one process or activity makes
    both, and an upset shows in each (a sewage works' effluent COD exceedance and its
    odour; a construction site's particulate alarm and its noise).
    """
    p = str(pollutant).strip().lower()
    if not p:
        return True
    hits = [cats for key, cats in _POLLUTANT_CATEGORY.items() if key in p]
    if not hits:
        return True
    if any(category in cats for cats in hits):
        return True
    if weights is None or category not in CATEGORIES or shared > 1:
        return False
    w = dict(zip(CATEGORIES, np.asarray(weights, dtype=float), strict=True))
    return w[category] >= shared and any(w.get(c, 0.0) >= shared for cats in hits for c in cats)


def _empty_candidates() -> pd.DataFrame:
    return pd.DataFrame({
        "cluster_id": pd.Series(dtype="str"), "rank": pd.Series(dtype="int64"),
        "enterprise_id": pd.Series(dtype="str"), "name": pd.Series(dtype="str"),
        "score": pd.Series(dtype="float64"), "distance_m": pd.Series(dtype="float64"),
        "bearing_deg": pd.Series(dtype="float64"), "p_value": pd.Series(dtype="float64"),
        "evidence": pd.Series(dtype="str"),
    })


def _tz_time(series: Any) -> pd.Series:
    s = pd.Series(series)
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        return s
    s = pd.to_datetime(s, errors="coerce")
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        return s
    return s.dt.tz_localize("UTC")


# --------------------------------------------------------------------------- main
def _preselect(ev_cat: np.ndarray, vx: np.ndarray, vy: np.ndarray, members: np.ndarray,
               bounds: np.ndarray, c_hour: np.ndarray, ex: np.ndarray, ey: np.ndarray,
               e_ok: np.ndarray, W: np.ndarray, REACH: np.ndarray, closed_h: np.ndarray,
               prm: AttributionParams, *, chunk_cells: int = 2_000_000
               ) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
    """Candidates of every event: enterprise indices and plausibilities ``a`` (step 5).

    Enterprises within ``max_distance_m`` of the event centre whose industry can cause the
    event's category and that had not closed before its first complaint: the
    ``max_candidates`` of them with the largest ``a``, and the ``nearest_candidates``
    nearest the event centre if they are not among those; in decreasing ``a`` (equal
    ``a``: lower index first).

    ``a`` depends on the enterprise only through its industry weight and reach, and falls
    with distance, so within one (weight, reach) class only the ``max_candidates`` nearest
    open enterprises can be chosen: a k-d tree per class gives those (plus as many as the
    class has enterprises closed before the last event began), and ``a`` is computed for
    them alone (at 10 000 enterprises, ~40 classes × 40 instead of thousands per event),
    over blocks of events of at most ``chunk_cells`` cells.

    Returns the events' first complaint hours (NaN without members) and, per event, the
    candidates' enterprise indices and plausibilities (empty arrays for none).
    """
    from scipy.spatial import cKDTree

    n_ev = len(ev_cat)
    start_h = np.full(n_ev, np.nan)
    has = bounds[1:] > bounds[:-1]
    if has.any():
        start_h[has] = np.minimum.reduceat(c_hour[members].astype(float), bounds[:-1][has])
    empty_i, empty_f = np.zeros(0, dtype=np.int64), np.zeros(0)
    ents: list[np.ndarray] = [empty_i] * n_ev
    plaus: list[np.ndarray] = [empty_f] * n_ev
    K = int(prm.max_candidates)
    n_near = min(int(prm.nearest_candidates), K)
    for ki, k in enumerate(CATEGORIES):
        evs = np.flatnonzero((ev_cat == k) & np.isfinite(vx) & np.isfinite(vy))
        pool = np.flatnonzero(e_ok & (W[:, ki] > 0))
        if evs.size == 0 or pool.size == 0 or K < 1:
            continue
        # an enterprise closed after every event's start never drops out: only the others
        # widen the neighbour search (events without members exclude closures at or before 0)
        st_k = start_h[evs]
        last = max(float(np.nanmax(st_k)) if np.isfinite(st_k).any() else 0.0, 0.0)
        _, cls = np.unique(np.column_stack([W[pool, ki], REACH[pool, ki]]), axis=0,
                           return_inverse=True)
        cls = cls.reshape(-1)
        classes = []  # (members, k-d tree or None, neighbours to fetch)
        for c in range(int(cls.max()) + 1):
            members_c = pool[cls == c]
            kk = K + int((closed_h[members_c] <= last).sum())
            if members_c.size <= kk:
                classes.append((members_c, None, members_c.size))
            else:
                classes.append((members_c, cKDTree(np.column_stack([ex[members_c], ey[members_c]])), kk))
        width = sum(kk for _, _, kk in classes)
        step = max(1, chunk_cells // max(width, 1))
        for lo in range(0, evs.size, step):
            blk = evs[lo:lo + step]
            cols = []
            for members_c, tree, kk in classes:
                if tree is None:
                    cols.append(np.broadcast_to(members_c, (blk.size, members_c.size)))
                    continue
                _, nn = tree.query(np.column_stack([vx[blk], vy[blk]]), k=kk,
                                   distance_upper_bound=prm.max_distance_m * (1 + 1e-9), workers=-1)
                nn = np.asarray(nn).reshape(blk.size, kk)
                cols.append(np.where(nn < members_c.size, members_c[np.minimum(nn, members_c.size - 1)], -1))
            ids = np.sort(np.concatenate(cols, axis=1), axis=1)  # ties of a: lower index first
            j = np.maximum(ids, 0)
            d = np.hypot(ex[j] - vx[blk, None], ey[j] - vy[blk, None])
            st = start_h[blk, None]
            cj = closed_h[j]
            open_ok = np.where(np.isfinite(st), cj > st, ~np.isfinite(cj) | (cj > 0))
            ok = (ids >= 0) & (d <= prm.max_distance_m) & open_ok
            a = np.where(ok, _plausibility(W[j, ki], d, REACH[j, ki], prm), -np.inf)
            m = a.shape[1]
            rows_b = np.arange(blk.size)[:, None]
            chosen = np.ones(a.shape, dtype=bool)
            if m > K:  # the K most plausible ...
                chosen[:] = False
                chosen[rows_b, np.argpartition(-a, K - 1, axis=1)[:, :K]] = True
                if n_near > 0:  # ... and the nearest open ones that can cause k, whatever their a
                    near = np.argpartition(np.where(ok, d, np.inf), n_near - 1, axis=1)[:, :n_near]
                    chosen[rows_b, near] |= ok[rows_b, near]
            for r, e in enumerate(blk):
                t = np.flatnonzero(chosen[r])
                av = a[r, t]
                keep = np.isfinite(av)
                t, av = t[keep], av[keep]
                o = np.lexsort((ids[r, t], -av))
                ents[e] = ids[r, t[o]]
                plaus[e] = av[o]
    return start_h, ents, plaus


def rank_suspects(
    events: pd.DataFrame,
    complaints: pd.DataFrame,
    enterprises: pd.DataFrame,
    *,
    wind: pd.DataFrame | None = None,
    alarms: pd.DataFrame | None = None,
    actions: pd.DataFrame | None = None,
    labels: Any = None,
    max_distance_m: float = 20000.0,
    n_permutations: int = 999,
    seed: int = 0,
    lang: str = "zh",
    params: AttributionParams | None = None,
    profile_for: Any = None,
    fixed: Mapping[str, Any] | None = None,
    split: bool = False,
) -> pd.DataFrame:
    """Rank the enterprises behind each event (the model is in the module docstring).

    Parameters
    ----------
    events : DataFrame
        One row per event: ``cluster_id, category, lon, lat`` (+ ``start, end``).
    complaints : DataFrame
        Canonical complaints with ``cluster_id`` (or pass ``labels``): ``complaint_id,
        received_at, lon, lat, channel, complainant_key, duplicate_of``.
    enterprises : DataFrame
        ``enterprise_id, name, industry, industry_code, lon, lat, status, closed_on``.
    wind : DataFrame, optional
        Hourly ``time, wind_dir_deg, wind_speed_ms`` (+ ``station_id, lon, lat, stability``).
    alarms : DataFrame, optional
        ``enterprise_id, time, pollutant``.
    actions : DataFrame, optional
        What staff did (:func:`envtrace.io.read_actions`): ``date, action, enterprise_id``;
        earlier enforcement findings weigh in (step 7b).
    labels : array_like, optional
        Cluster id per complaint (``"-1"`` = none), instead of ``complaints["cluster_id"]``.
    max_distance_m : float
        Prune candidates farther than this from the event centre (metres).
    n_permutations : int
        Circular whole-day wind shifts for the p-values (0: no p-values).
    seed : int
        Seeds the complaint sample and the permutations.
    lang : {"zh", "en"}
        Language of ``evidence``.
    params : AttributionParams, optional
        Model constants; ``max_distance_m`` above overrides ``params.max_distance_m``.
    profile_for : callable, optional
        Industry profile lookup (see :func:`industry_table`); default
        :func:`envtrace.profiles.profile_for`.
    fixed : mapping, optional
        What an earlier ranking of all events learnt, to rank the parts of split events
        with (step 11): ``prior`` (``(cluster_id, enterprise_id) -> multiplier`` of the
        triangulation, missing pairs 1), ``time_word_trust`` and ``odour_word_trust`` (the
        trusts in the texts' words), ``odour_q`` (the kinds of smell's base rates over
        the record) and ``wind_rotation_deg`` (the turn of the wind record, step 3b), so
        that ``complaints`` need hold only the events' own. (With ``complaint_hours_baseline``,
        off by default, the hour profile is then that of these complaints.)
    split : bool
        Propose splits of events holding two sources (step 11, ``attrs["split"]``); the
        suspects of those events then get no p-values, as the caller is to split them and
        rank the parts (``envtrace trace`` does).

    Returns
    -------
    DataFrame
        :data:`CANDIDATE_COLUMNS`, up to ``top_k`` rows per event, ordered by event and
        rank. ``attrs["info"]`` holds what evidence was used and warnings;
        ``attrs["split"]`` the complaints (index labels of ``complaints``, value: the
        number 1, 2, … of the part they form; ``-1 - k`` for none, out of part ``k``, 0
        being the part that keeps the top suspect) that leave their event (step 11), and
        ``attrs["fixed"]`` what the parts are to be ranked with (see ``fixed``).

    Raises
    ------
    InputError
        Missing columns, or an unknown ``lang``.
    """
    if lang not in ("zh", "en"):
        raise InputError(f"unknown language {lang!r} (use zh or en)")
    prm = params or AttributionParams()
    prm = AttributionParams(**{**prm.__dict__, "max_distance_m": float(max_distance_m)})
    info: dict[str, Any] = {"wind": False, "alarms": False, "history": False, "warnings": [],
                            "n_events": int(len(events))}
    for name, frame, cols in (
        ("events", events, ("cluster_id", "category", "lon", "lat")),
        ("complaints", complaints, ("complaint_id", "received_at", "lon", "lat")),
        ("enterprises", enterprises, ("enterprise_id", "lon", "lat")),
    ):
        miss = [c for c in cols if c not in frame.columns]
        if miss:
            raise InputError(f"{name}: missing column(s) {', '.join(miss)}")
    if labels is None:
        if "cluster_id" not in complaints.columns:
            raise InputError("complaints: no cluster_id column and no labels given")
        lab = complaints["cluster_id"].astype(str).to_numpy()
    else:
        lab = np.asarray(labels).astype(str)
        if lab.size != len(complaints):
            raise InputError("labels: length differs from complaints")
    out = _empty_candidates()
    out.attrs["info"] = info
    out.attrs["split"], out.attrs["fixed"] = pd.Series([], dtype="int64"), {}
    if len(events) == 0 or len(enterprises) == 0:
        if len(enterprises) == 0:
            info["warnings"].append("no enterprises: nothing to attribute")
        return out

    ev = events.reset_index(drop=True)
    ent = enterprises.reset_index(drop=True)
    cp_index = complaints.index
    cp = complaints.reset_index(drop=True)
    rng = np.random.default_rng(seed)
    fixed = dict(fixed) if fixed is not None else None
    # its own stream, so that the other draws do not move
    rng_words = np.random.default_rng(None if seed is None else [seed, 7])

    # projection ------------------------------------------------------------------
    e_lon = pd.to_numeric(ent["lon"], errors="coerce").to_numpy(dtype=float)
    e_lat = pd.to_numeric(ent["lat"], errors="coerce").to_numpy(dtype=float)
    c_lon = pd.to_numeric(cp["lon"], errors="coerce").to_numpy(dtype=float)
    c_lat = pd.to_numeric(cp["lat"], errors="coerce").to_numpy(dtype=float)
    v_lon = pd.to_numeric(ev["lon"], errors="coerce").to_numpy(dtype=float)
    v_lat = pd.to_numeric(ev["lat"], errors="coerce").to_numpy(dtype=float)
    try:
        crs = geo.local_crs(np.concatenate([v_lon, e_lon]), np.concatenate([v_lat, e_lat]))
    except ValueError:
        raise InputError("no usable coordinates for events or enterprises") from None
    ex, ey = geo.project(e_lon, e_lat, crs)
    cx, cy = geo.project(c_lon, c_lat, crs)
    vx, vy = geo.project(v_lon, v_lat, crs)

    # enterprises -------------------------------------------------------------------
    codes = (ent["industry_code"] if "industry_code" in ent.columns else
             pd.Series([""] * len(ent))).fillna("").astype(str).tolist()
    registered = codes
    if prm.industry_from_name and "name" in ent.columns:
        from envtrace.profiles import code_by_name

        # what the name says the plant is (生活垃圾填埋场 registered as 环境卫生管理)
        codes = code_by_name(ent["name"].tolist(), codes)
    W, REACH, HOURS, _known = industry_table(codes, profile_for=profile_for)
    status = (ent["status"].fillna("").astype(str).str.lower().to_numpy() if "status" in ent.columns
              else np.full(len(ent), "operating", dtype=object))
    if "closed_on" in ent.columns:
        closed_on = _tz_time(ent["closed_on"])
        closed_h = _hour_index(closed_on).astype(float)
        closed_h[closed_h == float(np.iinfo(np.int64).min)] = np.nan
    else:
        closed_h = np.full(len(ent), np.nan)
    is_closed = np.isin(status, ["closed", "关闭", "关停", "已关闭"])
    closed_h = np.where(is_closed & ~np.isfinite(closed_h), -np.inf, closed_h)
    closed_h = np.where(is_closed, closed_h, np.inf)
    e_ok = np.isfinite(ex) & np.isfinite(ey)
    e_id = ent["enterprise_id"].astype(str).to_numpy()
    e_name = (ent["name"].fillna("").astype(str).to_numpy() if "name" in ent.columns
              else np.full(len(ent), "", dtype=object))
    e_ind = (ent["industry"].fillna("").astype(str).to_numpy() if "industry" in ent.columns
             else np.asarray(codes, dtype=object))
    e_ind = _industry_labels(codes, e_ind, lang=lang)
    for i in np.flatnonzero(np.asarray(codes, dtype=object) != np.asarray(registered, dtype=object)):
        e_ind[i] = (f"{e_ind[i]}（据名称；登记为 {registered[i] or '无'}）" if lang == "zh" else
                    f"{e_ind[i]} (by its name; registered {registered[i] or 'none'})")

    # complaints ----------------------------------------------------------------------
    tzs = _tz_time(cp["received_at"])  # always zone-aware
    c_hour = _hour_index(tzs)
    c_hod = tzs.dt.hour.fillna(0).astype(np.int64).to_numpy()  # local hour; NaT rows: dropped by c_ok
    dup = (cp["duplicate_of"].fillna("").astype(str).to_numpy() != "") if "duplicate_of" in cp.columns \
        else np.zeros(len(cp), dtype=bool)
    # complainant keys as integer codes (-1: none), so that per-event counting sorts ints
    ckey = (pd.factorize(cp["complainant_key"].fillna("").astype(str).replace("", None))[0]
            if "complainant_key" in cp.columns else np.full(len(cp), -1, dtype=np.int64))
    chan = (cp["channel"].fillna("").astype(str).to_numpy() if "channel" in cp.columns
            else np.full(len(cp), "", dtype=object))
    late = np.isin(chan, list(prm.late_channels))
    c_ok = np.isfinite(cx) & np.isfinite(cy) & (c_hour != np.iinfo(np.int64).min) & ~dup

    ev_ids = ev["cluster_id"].astype(str).to_numpy()
    ev_cat = ev["category"].fillna("other").astype(str).to_numpy()
    ev_pos = {c: i for i, c in enumerate(ev_ids)}
    member_ev = np.array([ev_pos.get(x, -1) for x in lab], dtype=np.int64)
    sel = (member_ev >= 0) & c_ok
    order = np.argsort(member_ev[sel], kind="stable")
    members_all = np.flatnonzero(sel)[order]
    bounds = np.searchsorted(member_ev[members_all], np.arange(len(ev) + 1))

    wd = _prepare_wind(wind, crs)
    ent_profile = None  # operating profile of B per enterprise (activity_baseline)
    rho = None
    if wd is not None and prm.wind_autocorrelation:
        # per station, then the mean: the memory of the wind direction, hour by hour
        acs = [wind_direction_autocorrelation(np.where(wd.valid[k], wd.dir[k], np.nan),
                                              max_lag_h=int(prm.lag_max_h))
               for k in range(len(wd.stations))]
        rho = np.mean(acs, axis=0) if acs else None
        if rho is not None:
            info["wind_time_scale_h"] = round(float(1.0 + 2.0 * rho[1:].sum()), 2)
    if wd is not None:
        wd.gamma = float(prm.response_exponent)
        if prm.complaint_hours_baseline:
            wd.hour_w = _complaint_hour_weights(wd, c_hour[c_ok], c_hod[c_ok])
        if prm.activity_baseline:
            wd.hod = _wind_local_hours(wd, c_hour[c_ok], c_hod[c_ok])
            ent_profile = _operating_profiles(wd, HOURS, prm.hours_epsilon)
    info["wind"] = wd is not None
    if wd is None:
        info["warnings"].append("no wind data: attribution uses distance, industry, timing and alarms only")
    alarm_by_ent = _prepare_alarms(alarms, e_id, episode_gap_h=prm.alarm_episode_gap_h)
    info["alarms"] = alarm_by_ent is not None
    c_tz = getattr(getattr(tzs, "dt", None), "tz", None)  # the parsed times' zone
    findings = _prepare_findings(actions, e_id, c_tz) if prm.history_recall > 0 else None
    info["history"] = findings is not None

    # candidate pre-selection -----------------------------------------------------
    start_h, sel_ent, sel_a = _preselect(ev_cat, vx, vy, members_all, bounds, c_hour, ex, ey, e_ok,
                                          W, REACH, closed_h, prm)
    cand_ev = [np.full(v.size, e, dtype=np.int64) for e, v in enumerate(sel_ent) if v.size]
    cand_ent = [v for v in sel_ent if v.size]
    cand_a = [v for v, n in zip(sel_a, sel_ent, strict=True) if n.size]
    if not cand_ev:
        return out
    P_ev = np.concatenate(cand_ev)
    P_ent = np.concatenate(cand_ent)
    P_a0 = np.concatenate(cand_a)  # by distance alone

    def wind_rose(w: _Wind | None) -> np.ndarray:
        if w is None or not prm.directional_reach or prm.emission_log_sd <= 0:
            return P_a0
        return _directional_plausibility(P_a0, P_ev, P_ent, ev_cat, W, REACH, (ex, ey, vx, vy), w, prm)

    P_a = wind_rose(wd)
    n_pairs = P_ev.size
    pair_start = np.searchsorted(P_ev, np.arange(len(ev) + 1))

    # complaints used per event (seeded sample) and their weights ------------------
    used_idx: list[np.ndarray] = []
    for e in range(len(ev)):
        mem = members_all[bounds[e]:bounds[e + 1]]
        if mem.size > prm.max_complaints_wind:
            mem = np.sort(rng.choice(mem, size=prm.max_complaints_wind, replace=False))
        used_idx.append(mem)
    used_w = _complaint_weights(used_idx, ckey, c_hour, rho, prm.same_hour_exponent)

    # reporting lags: the channel's prior, or where the text says when (step 2) ---------
    masks = np.zeros(len(cp), dtype=np.int64)
    if prm.time_cue_trust > 0 and "text" in cp.columns and members_all.size:
        from envtrace.classify import noticed_hours

        masks[members_all] = noticed_hours(cp["text"].iloc[members_all])
    lag_cls = np.zeros(len(cp), dtype=np.int64)
    trust = (time_word_trust(c_hod[members_all], masks[members_all], cap=prm.time_cue_trust)
             if fixed is None else float(fixed.get("time_word_trust", 0.0)))
    cls_m, lag_tab = _lag_classes(late[members_all], c_hod[members_all], masks[members_all], prm,
                                  trust)
    lag_cls[members_all] = cls_m
    info["time_words"] = int((masks[members_all] != 0).sum())
    info["time_word_trust"] = round(trust, 3)

    # operating-hours factor (weak), at the hours the smell was noticed ----------------------
    eps = prm.hours_epsilon
    log_hours = np.zeros(n_pairs)
    lag_h = np.arange(lag_tab.shape[1])
    for e in range(len(ev)):
        sl = slice(pair_start[e], pair_start[e + 1])
        if sl.start == sl.stop or used_idx[e].size == 0:
            continue
        ents = P_ent[sl]
        u = used_idx[e]
        # (n_c, 24): each complaint's lag weights on the local hours they fall in
        hw = np.zeros((u.size, 24))
        np.add.at(hw, (np.repeat(np.arange(u.size), lag_h.size),
                       np.mod(c_hod[u][:, None] - lag_h[None, :], 24).reshape(-1)),
                  lag_tab[lag_cls[u]].reshape(-1))
        hm = HOURS[ents] @ hw.T  # (n_cand, n_c)
        f_op = HOURS[ents].mean(axis=1, keepdims=True)
        ratio = (eps + (1 - eps) * hm) / (eps + (1 - eps) * f_op)
        wts = used_w[e]
        n_eff = min(float(wts.sum()), prm.hours_max_weight)
        log_hours[sl] = n_eff * (np.log(ratio) * wts).sum(axis=1) / wts.sum()

    # enforcement history -------------------------------------------------------------
    log_hist = np.zeros(n_pairs)
    hist_n = np.zeros(n_pairs, dtype=np.int64)
    hist_day: list[str] = [""] * n_pairs
    hist_act: list[str] = [""] * n_pairs
    if findings is not None:
        # the local calendar day of each event's first complaint
        c_day = _local_days(tzs, c_tz)
        start_day = np.full(len(ev), np.nan)
        has = bounds[1:] > bounds[:-1]
        if has.any():
            start_day[has] = np.minimum.reduceat(c_day[members_all], bounds[:-1][has])
        log_hist, hist_n, hist_day, hist_act = _history_terms(findings, P_ev, P_ent, start_day, prm)

    # wind term ------------------------------------------------------------------------
    log_time = np.zeros(n_pairs)
    up_share = np.full(n_pairs, np.nan)
    up_base = np.full(n_pairs, np.nan)
    r_mean = np.full(n_pairs, np.nan)
    wind_used = np.zeros(n_pairs, dtype=bool)
    cache: dict[str, Any] = {}
    reached = None
    if wd is not None and prm.wind_rotation_sd_deg > 0 and fixed is None:
        rot = _fit_wind_rotation(prm, ev_cat, used_idx, used_w, pair_start, P_ev, P_ent, wind_rose,
                                 (cx, cy, ex, ey), c_hour, lag_cls, lag_tab, closed_h, wd, ent_profile)
        info["wind_rotation_deg"] = rot
        if rot:
            wd = _rotated(wd, rot)
            P_a = wind_rose(wd)
            info["warnings"].append(
                f"wind directions turned by {rot:+.0f}°: the complaints' timing fits the record "
                "better so (a station far away or in other terrain)")
    elif wd is not None and fixed is not None and float(fixed.get("wind_rotation_deg", 0.0)):
        info["wind_rotation_deg"] = float(fixed["wind_rotation_deg"])  # handed on to later rounds
        wd = _rotated(wd, info["wind_rotation_deg"])
        P_a = wind_rose(wd)
    if wd is not None:
        cache = _wind_structures(prm, ev_cat, used_idx, used_w, pair_start, P_ev, P_ent, cx, cy, ex, ey,
                                 c_hour, lag_cls, lag_tab, closed_h, wd, ent_profile)
        if cache:
            lt, us, ub, rr, ins_all = _time_term(cache, wd)
            idx = cache["pairs"]
            log_time[idx] = lt
            up_share[idx] = us
            up_base[idx] = ub
            r_mean[idx] = rr
            wind_used[idx] = True
            starts_r = np.searchsorted(cache["pair"], np.arange(n_pairs + 1))

            def reached(p: int) -> np.ndarray:
                """In-plume flags of pair p's rows: its event's used complaints, in order."""
                return ins_all[starts_r[p]:starts_r[p + 1]]

    # alarms ---------------------------------------------------------------------------
    log_alarm = np.zeros(n_pairs)
    alarm_n = np.zeros(n_pairs, dtype=np.int64)
    alarm_pol: list[str] = [""] * n_pairs
    if alarm_by_ent is not None:
        rate, table = alarm_by_ent
        win = prm.alarm_window_h
        # (enterprise, category) -> (relevant-alarm mask, its share of the record's alarms)
        relevant: dict[tuple[int, str], tuple[np.ndarray, float]] = {}
        for e in range(len(ev)):
            ps = range(pair_start[e], pair_start[e + 1])
            if not ps or used_idx[e].size == 0:
                continue
            t_all = c_hour[used_idx[e]].astype(float) + 0.5
            order = np.argsort(t_all, kind="stable")
            t_sorted = t_all[order]
            cover_all = _window_cover(t_sorted, win)
            k = str(ev_cat[e])
            for p in ps:
                j = int(P_ent[p])
                if j not in table and prm.alarm_extra_mean > 0:
                    continue  # no monitor record: the factor is 1
                t_c, cover = t_sorted, cover_all
                if reached is not None and wind_used[p]:
                    # with wind: only the complaints j's plume reached can tell of its alarms
                    # (an upset of a plant whose air never came cannot explain them)
                    t_c = t_sorted[reached(p)[order]]
                    if t_c.size == 0:
                        continue
                    cover = _window_cover(t_c, win)
                lam = rate.get(j, 0.0)
                if j not in table:
                    log_alarm[p] = np.log(1.0 / (lam * cover + 1.0))
                    continue
                t_all_a, pol_all, ep_all = table[j]
                got = relevant.get((j, k))
                if got is None:  # per distinct pollutant name, then per alarm
                    names, inv = np.unique(pol_all.astype(str), return_inverse=True)
                    rel_all = np.array([_pollutant_relevant(x, k, W[j], shared=prm.alarm_shared_weight)
                                        for x in names], dtype=bool)[inv.reshape(-1)]
                    # share of the episodes with an alarm relevant to the category
                    n_ep = int(ep_all[-1]) + 1 if ep_all.size else 0
                    got = relevant[(j, k)] = (rel_all, np.unique(ep_all[rel_all]).size / n_ep if n_ep else 0.0)
                rel_all, rel_share = got
                # only alarms in [first complaint - window, last complaint] can be counted
                # (the alarm times are sorted)
                lo = int(np.searchsorted(t_all_a, t_c[0] - win, side="left"))
                hi = int(np.searchsorted(t_all_a, t_c[-1], side="right"))
                t_a, pol, rel = t_all_a[lo:hi], pol_all[lo:hi], rel_all[lo:hi]
                nxt = np.searchsorted(t_c, t_a, side="left")
                okn = nxt < t_c.size
                lag = np.where(okn, t_c[np.minimum(nxt, t_c.size - 1)] - t_a, np.inf)
                hit = okn & (lag <= win) & (lag >= 0) & rel
                n = int(np.unique(ep_all[lo:hi][hit]).size)  # episodes, not hourly alarms
                if prm.alarm_extra_mean <= 0:
                    log_alarm[p] = np.log((n + 1.0) / (lam * cover + 1.0))
                elif rel_share > 0:
                    # a monitor that records pollutants relevant to the category: baseline rate
                    # of those alarms only; without such a record the alarms say nothing
                    log_alarm[p] = _alarm_log_bf(n, lam * rel_share * cover, prm)
                alarm_n[p] = int(hit.sum())  # the evidence line counts the alarms
                if n:
                    pols: dict[str, int] = {}
                    for x in pol[hit]:
                        pols[x] = pols.get(x, 0) + 1
                    alarm_pol[p] = "/".join(sorted(pols, key=lambda s: -pols[s])[:2])

    # odour words: what the complainants call the smell (step 7c) -------------------------
    # (the words' weight is judged against where the other evidence points: the provisional
    # log posterior of each pair without them)
    prior = P_a * np.exp(log_hist)
    prov = np.log(np.maximum(prior, 1e-300)) + log_time + log_hours + log_alarm
    words = _odour_words(
        cp, ev_cat, used_idx, used_w, pair_start, P_ent, codes, ckey, prm, rng_words, info, provisional=prov,
        trust_fixed=None if fixed is None else float(fixed.get("odour_word_trust", 0.0)),
        q_fixed=None if fixed is None else fixed.get("odour_q"),
        # per-complaint values (of the wind sample) only for the events step 11 may split
        llr_for=(np.diff(bounds) <= prm.split_max_members) if split and prm.split_min_gain > 0 else None)
    log_odour, odour_top, odour_fams = words.log_lr, words.top, words.families

    # enterprises the complainants name (step 7d) -------------------------------------------
    # (read in the wind samples only: at most max_complaints_wind texts per event)
    named, aliases = _named_in_texts(
        cp, ent, np.concatenate(used_idx) if used_idx else np.zeros(0, dtype=np.int64),
        aliases=None if fixed is None else fixed.get("name_aliases"))
    names = _named_terms(
        named, ev_cat, used_idx, used_w, pair_start, P_ev, P_ent, W, (cx, cy, ex, ey),
        e_ok, closed_h, c_hour, prov + log_odour, prm, info, ckey=ckey,
        fixed=None if fixed is None or "name_trust" not in fixed
        else (float(fixed["name_trust"]), float(fixed["name_scale_m"])),
        fame_fixed=None if fixed is None else fixed.get("name_fame"))

    # posterior with empirical-Bayes triangulation (EM on the mixture weights) ----------
    # the enforcement history is a prior on the enterprise, like a_j: the triangulation
    # learns its weights from this event evidence without it (not counted twice)
    log_lik = log_time + log_hours + log_alarm + log_odour + names.log_lr
    # each event's time for the triangulation, days: the mean receipt hour of the complaints
    # its wind term uses, else its first complaint's hour
    ev_day = start_h / 24.0
    n_used = np.array([u.size for u in used_idx], dtype=np.int64)
    if n_used.any():
        has_u = n_used > 0
        flat = np.concatenate([used_idx[e] for e in np.flatnonzero(has_u)])
        starts_u = np.r_[0, np.cumsum(n_used[has_u])[:-1]]
        ev_day[has_u] = np.add.reduceat(c_hour[flat].astype(float), starts_u) / n_used[has_u] / 24.0
    ev_day[np.isnan(ev_day)] = np.nanmean(ev_day) if np.isfinite(ev_day).any() else 0.0
    if fixed is None:
        post, mult = _triangulate(prior, log_lik, P_ev, P_ent, pair_start, ev_cat, prm,
                                  ev_day=ev_day, info=info)
    else:  # the parts of split events: the weights learnt from all events
        fp = fixed.get("prior", {})
        mult = np.array([float(fp.get((str(ev_ids[i]), str(e_id[j])), 1.0))
                         for i, j in zip(P_ev.tolist(), P_ent.tolist(), strict=True)])
        post = _posterior(prior * mult, log_lik, pair_start, np.full(len(ev), prm.background_prior))
    # step 11: complaints another candidate explains far better than the top suspect
    split_pos = split_part = np.zeros(0, dtype=np.int64)
    if split and prm.split_min_gain > 0 and cache:
        reach_pair = None
        if prm.split_reach and prm.emission_log_sd > 0:  # each candidate's reach for its event's category
            # (events of no listed category have no candidates: the clip only keeps the
            # index valid)
            reach_pair = REACH[P_ent, np.maximum(_category_codes(ev_cat), 0)[P_ev]]
        split_pos, split_part = _split_parts(cache, post, prior * mult, pair_start, prm, ckey=ckey,
                                 words_llr=words.per_complaint, members=(members_all, bounds),
                                 xyt=(cx, cy, c_hour),
                                 reach=None if reach_pair is None else (reach_pair, P_ent, ex, ey, vx, vy))

    # top-k per event, p-values, evidence ----------------------------------------------
    rows_p: list[int] = []
    ranks: list[int] = []
    for e in range(len(ev)):
        sl = np.arange(pair_start[e], pair_start[e + 1])
        if sl.size == 0:
            continue
        dd = np.hypot(ex[P_ent[sl]] - vx[e], ey[P_ent[sl]] - vy[e])
        o = np.lexsort((e_id[P_ent[sl]], dd, -post[sl]))[: prm.top_k]
        rows_p.extend(sl[o].tolist())
        ranks.extend(range(1, o.size + 1))
    rows = np.asarray(rows_p, dtype=np.int64)
    pvals = np.full(rows.size, np.nan)
    # an event that is split (step 11) is ranked again as its parts: no p-values for its suspects
    split_ev = np.unique(member_ev[split_pos]) if split_pos.size else np.zeros(0, dtype=np.int64)
    tested = ~np.isin(P_ev[rows], split_ev)
    if wd is not None and cache and n_permutations > 0 and tested.any():
        pvals[tested] = _permutation_p(cache, wd, rows[tested], n_permutations, rng, prm, info)

    dist, bear = geo.distance_bearing(v_lon[P_ev[rows]], v_lat[P_ev[rows]],
                                      e_lon[P_ent[rows]], e_lat[P_ent[rows]])
    # suspects sharing a plume, among all of the event's candidates (a park's other plants
    # may rank beyond top_k): the reported ones by id, the others counted
    bear_all = np.mod(np.rad2deg(np.arctan2(ex[P_ent] - vx[P_ev], ey[P_ent] - vy[P_ev])), 360.0)
    pi, pj = _same_plume(P_ev, bear_all, log_time, wind_used)
    row_at = np.full(n_pairs, -1, dtype=np.int64)
    row_at[rows] = np.arange(rows.size)
    lo, hi = np.searchsorted(pi, rows, side="left"), np.searchsorted(pi, rows, side="right")
    twins: dict[int, tuple[list[int], int]] = {}
    for k in np.flatnonzero(hi > lo):
        partners = row_at[pj[lo[k]:hi[k]]]
        shown = np.sort(partners[partners >= 0]).tolist()
        twins[int(k)] = (shown, int((partners < 0).sum()))
    evid = [
        _evidence(lang=lang, category=ev_cat[P_ev[p]], wind=info["wind"], wind_used=bool(wind_used[p]),
                  up_share=up_share[p], up_base=up_base[p], r_mean=r_mean[p], distance=float(dist[i]),
                  bearing=float(bear[i]), industry=str(e_ind[P_ent[p]]),
                  alarms=info["alarms"], n_alarms=int(alarm_n[p]), pollutant=alarm_pol[p],
                  window=prm.alarm_window_h, p_value=float(pvals[i]),
                  n_findings=int(hist_n[p]), finding_day=hist_day[p], finding=hist_act[p],
                  same_plume=[str(e_id[P_ent[rows[j]]]) for j in twins.get(i, ([], 0))[0]],
                  same_plume_more=twins.get(i, ([], 0))[1],
                  odour=_odour_evidence(odour_top[P_ev[p]], odour_fams[P_ent[p]], lang),
                  n_named=int(names.n_named[p]))
        for i, p in enumerate(rows)
    ]
    res = pd.DataFrame({
        "cluster_id": pd.Series(ev_ids[P_ev[rows]], dtype="str"),
        "rank": np.asarray(ranks, dtype=np.int64),
        "enterprise_id": pd.Series(e_id[P_ent[rows]], dtype="str"),
        "name": pd.Series(e_name[P_ent[rows]], dtype="str"),
        "score": np.clip(post[rows], 0.0, 1.0),
        "distance_m": np.round(dist, 1),
        "bearing_deg": np.round(bear, 1),
        "p_value": pvals,
        "evidence": pd.Series(evid, dtype="str"),
    })
    info["split_events"] = int(split_ev.size)
    res.attrs["info"] = info
    res.attrs["split"] = pd.Series(split_part, index=cp_index[split_pos], dtype="int64")
    in_split = np.isin(P_ev, split_ev)
    res.attrs["fixed"] = {
        "prior": {(str(ev_ids[P_ev[p]]), str(e_id[P_ent[p]])): float(mult[p]) for p in np.flatnonzero(in_split)},
        "time_word_trust": float(trust),
        "odour_word_trust": words.trust,
        "odour_q": words.q,
        "name_trust": names.trust,
        "name_scale_m": names.scale_m,
        "name_fame": names.fame,
        "name_aliases": aliases,
        "wind_rotation_deg": float(info.get("wind_rotation_deg", 0.0)),
    }
    return res


def _split_parts(cache: dict[str, Any], post: np.ndarray, prior: np.ndarray, pair_start: np.ndarray,
                 prm: AttributionParams, *, ckey: np.ndarray, words_llr: Sequence[np.ndarray | None],
                 members: tuple[np.ndarray, np.ndarray],
                 xyt: tuple[np.ndarray, np.ndarray, np.ndarray],
                 reach: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]
                 | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Positions (in the complaints) of those that leave their event with other suspects, and
    the part each forms (step 11).

    Per event, for each complaint ``i`` of the wind sample with wind data and candidate
    ``j``: the evidence ``s_ij = log(π_b + (1 − π_b) R_ij)`` (+ ``words_llr[e]``: in odour
    events whose words are believed, the log LR of the kind of smell it names, step 7c: ``油烟``
    sides with a restaurant, ``垃圾`` with a transfer station); ``a`` is the top suspect. The
    complaints with ``s_ib − s_ia > log split_margin`` would go with ``b``, for a gain
    ``G_b = Σ v_i (s_ib − s_ia) + log(prior_b / prior_a)`` over them (the prior counted once,
    not once per complaint: complaints that no plume reaches do not go to the likelier
    plant). The ``b`` of largest gain takes them when ``G_b ≥ split_min_gain`` and both
    its part and the rest keep ``split_min_complaints`` complainants (distinct ``ckey`` codes; a complaint
    without one counts alone), as an event needs several people, not one person's calls.
    ``reach`` (``(L, P_ent, ex, ey, vx, vy)``: each pair's reach for its event's category,
    metres, and the projected places of the enterprises and event centres) adds to
    ``s_ij`` the log ratio of step 5's reach probability at the complaint's distance to
    that at the centre's. With ``split_words_per_person`` the words enter ``G_b`` once per
    complainant (``1 / n_calls``), at most ``odour_max_weight`` complainants' worth, the
    wind and place by ``v_i``. The next candidate of largest gain, each complaint judged against
    the part it is in, then takes its own, up to ``split_max_parts`` parts (every part,
    the top suspect's included, keeping ``split_min_complaints`` complainants). Last, a
    complaint of the wind sample whose ``s_ij`` for some candidate exceeds that of its
    part's suspect by more than ``log split_detach_margin`` leaves for no event (part
    ``-1 - k``, out of part ``k``), if the complaints with the same best candidate are fewer than
    ``split_min_complaints`` complainants (a larger group stays, for a later round) and
    its part keeps ``split_min_complaints`` complainants; the complaints outside the
    sample follow the parts only.

    Returns the positions (in the complaints) of the complaints that leave and the number
    (1, 2, …) of the part each forms, in the order the parts were taken; ``-1 - k`` for a
    complaint that leaves part ``k`` (0: the top suspect's) for no event. Without ``reach``
    and with ``split_max_parts = 2`` this is the rule before 2026-11-28.

    An event larger than its wind sample (``members``: the positions of each event's
    complaints, ``members_all[bounds[e]:bounds[e + 1]]``) is split by its sample: each
    complaint outside it goes with its nearest sampled complaint in space and time
    (``xyt``: projected metres and hour index; ``split_neighbour_m_per_h`` metres count as
    one hour), since complaints made at one place within hours of each other smelled the
    same air.
    """
    from scipy.spatial import cKDTree
    from scipy.special import log_ndtr

    n_ev = pair_start.size - 1
    starts = np.searchsorted(cache["ev"], np.arange(n_ev + 1))  # rows are grouped by event
    term_w, w_all, has_w = cache["term_w"], cache["w"], cache["has_w"]
    members_all, bounds = members
    m = int(prm.split_min_complaints)
    margin = float(np.log(prm.split_margin))
    detach_gap = float(np.log(prm.split_detach_margin))

    def people(keys: np.ndarray) -> int:
        return int(np.unique(keys[keys >= 0]).size + (keys < 0).sum())

    def space_time(pos: np.ndarray) -> np.ndarray:
        return np.column_stack([xyt[0][pos], xyt[1][pos],
                                xyt[2][pos].astype(float) * float(prm.split_neighbour_m_per_h)])

    max_parts = max(int(prm.split_max_parts) - 1, 0)
    moved: list[np.ndarray] = []
    parts: list[np.ndarray] = []
    for e in np.flatnonzero(np.diff(starts) > 0):
        r0, r1 = starts[e], starts[e + 1]
        p0, p1 = pair_start[e], pair_start[e + 1]
        n_cand = p1 - p0
        n_c = (r1 - r0) // n_cand  # rows: candidate-major, the event's complaints within
        rest = members_all[bounds[e]:bounds[e + 1]]
        if n_c < 2 * m or n_cand < 2 or rest.size > prm.split_max_members:
            continue
        comps = cache["comp"][r0:r0 + n_c]
        w = w_all[r0:r0 + n_c]
        windy = has_w[r0:r0 + n_c]  # the same for every candidate: the complaint's hours
        if windy.sum() < m:
            continue
        s_ev = term_w[r0:r1].reshape(n_cand, n_c) / np.maximum(w, 1e-300)[None, :]
        if words_llr[e] is not None:  # the event's used complaints, in the cache's order
            s_ev = s_ev + words_llr[e]
        if reach is not None:  # how much likelier j reaches complaint i than the event centre
            r_j, p_ent, ex, ey, vx, vy = reach
            jj = p_ent[p0:p1]
            d_i = np.hypot(ex[jj][:, None] - xyt[0][comps][None, :], ey[jj][:, None] - xyt[1][comps][None, :])
            d_c = np.hypot(ex[jj] - vx[e], ey[jj] - vy[e])[:, None]
            L = r_j[p0:p1][:, None]
            s_ev = s_ev + log_ndtr(-_reach_z(d_i, L, prm)) - log_ndtr(-_reach_z(d_c, L, prm))
        a = int(np.argmax(post[p0:p1]))
        lp = np.log(np.maximum(prior[p0:p1], 1e-300))
        # the words are each complainant's own (not shared by the hour, as the wind is):
        # one unit per complainant, at most odour_max_weight complainants' worth per part
        per_person = words_llr[e] is not None and prm.split_words_per_person
        if per_person:
            # step 4's weights without the hour's sharing: 1 / n_calls
            u = _complaint_weights([comps], ckey, xyt[2], None, 0.0)[0]
            s_rest = s_ev - words_llr[e]  # wind and place
        # greedy: each round, the candidate of largest gain takes the complaints it explains
        # better than the part they are in (by more than the margin); the top suspect's
        # part and every part keep m complainants
        cols = np.arange(n_c)
        owner = np.full(n_c, a, dtype=np.int64)
        taken = np.zeros(n_cand, dtype=bool)
        taken[a] = True
        order: list[int] = []  # the parts taken, in order
        while len(order) < max_parts:
            D = s_ev - s_ev[owner, cols][None, :]
            go = (D > margin) & windy[None, :] & ~taken[:, None]
            if per_person:
                D_rest = s_rest - s_rest[owner, cols][None, :]
                u_go = np.where(go, u[None, :], 0.0)
                n_u = u_go.sum(axis=1)
                cap = np.minimum(n_u, prm.odour_max_weight) / np.maximum(n_u, 1e-300)
                gain = ((np.where(go, D_rest, 0.0) * w).sum(axis=1) + cap * (u_go * (D - D_rest)).sum(axis=1)
                        + (lp - lp[a]))
            else:
                gain = (np.where(go, D, 0.0) * w).sum(axis=1) + (lp - lp[a])
            gain[~go.any(axis=1)] = -np.inf
            chosen = -1
            for b in np.argsort(-gain, kind="stable"):
                if not gain[b] >= prm.split_min_gain:
                    break
                new_owner = np.where(go[b], b, owner)
                # every part (the top suspect's among the taken) and b's keep m
                # complainants, counted among the scored complaints: followers alone make
                # no part
                if all(people(ckey[comps[new_owner == k]]) >= m for k in (*np.flatnonzero(taken), b)):
                    chosen = int(b)
                    owner = new_owner
                    break
            if chosen < 0:
                break
            taken[chosen] = True
            order.append(chosen)
        # complaints another candidate explains far better than their part's suspect, too
        # few to make a part: they leave for no event (each part keeping m complainants).
        # A group of m complainants or more that some candidate explains better stays:
        # a later round (split_rounds) may make it a part, or the prior judged that
        # candidate implausible for it (its gain below split_min_gain)
        gap = s_ev - s_ev[owner, cols][None, :]
        gap[owner, cols] = -np.inf
        detach = windy & (gap.max(axis=0) > detach_gap)
        best = np.argmax(gap, axis=0)
        for b in np.unique(best[detach]):
            with_b = detach & (best == b)
            if people(ckey[comps[with_b]]) >= m:
                detach[with_b] = False
        for k in np.unique(owner[detach]):
            in_k = owner == k
            if people(ckey[comps[in_k & ~detach]]) < m:
                detach[in_k] = False
        if not order and not detach.any():
            continue
        # part numbers 1, 2, … in the order the parts were taken (each keeps m complainants,
        # so none is empty); the top suspect's complaints stay; -1 - k: in no event, out
        # of part k
        part = np.zeros(n_c, dtype=np.int64)
        for k, b in enumerate(order, start=1):
            part[owner == b] = k
        follow_part = part.copy()  # the complaints outside the sample follow the parts only
        part[detach] = -1 - part[detach]  # -1 - k: leaves part k (0: the top suspect's)
        out = comps[part != 0]
        out_part = part[part != 0]
        if rest.size > n_c:  # the complaints outside the sample follow their nearest in it
            rest = np.setdiff1d(rest, comps)
            nearest = cKDTree(space_time(comps)).query(space_time(rest))[1]
            follow = follow_part[nearest] > 0
            out = np.r_[out, rest[follow]]
            out_part = np.r_[out_part, follow_part[nearest][follow]]
        moved.append(out)
        parts.append(out_part)
    if not moved:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    pos, part = np.concatenate(moved), np.concatenate(parts)
    o = np.argsort(pos, kind="stable")
    return pos[o], part[o]


def _posterior(prior: np.ndarray, log_lik: np.ndarray, pair_start: np.ndarray,
               bg: float | np.ndarray, *, log_evidence: bool = False
               ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Posterior of each candidate against the background (LR 1, weight ``bg``) per event.

    With ``log_evidence`` also ``log(bg + Σ_j prior_j L_j)`` per event (``L_j =
    exp(log_lik_j)``): the event's evidence under the weights, up to the normaliser
    ``bg + Σ_j prior_j``.
    """
    n_ev = pair_start.size - 1
    ev = np.repeat(np.arange(n_ev), np.diff(pair_start))
    lbg = np.log(np.broadcast_to(np.asarray(bg, dtype=float), (n_ev,)))
    with np.errstate(divide="ignore"):
        lw = np.log(np.maximum(prior, 1e-300)) + log_lik
    mx = lbg.copy()
    np.maximum.at(mx, ev, lw)
    num = np.exp(lw - mx[ev])
    den = np.exp(lbg - mx) + np.bincount(ev, weights=num, minlength=n_ev)
    if log_evidence:
        return num / den[ev], mx + np.log(den)
    return num / den[ev]


class _KernelSums:
    """``Σ_k exp(-|t_i - t_k| / tau) x_k`` over the entries ``k`` of ``i``'s segment (self
    included), for ``x >= 0``; ``tau = inf`` gives the plain segment sums.

    Two passes of ``logaddexp.accumulate`` over the entries sorted by (segment, time): the
    forward one sums ``x_k e^{z_k}``, ``z = t / tau``, for ``t_k <= t_i``, the backward one
    ``x_k e^{-z_k}`` for ``t_k >= t_i``; segments are set apart on the ``z`` axis by more
    than 700, so no weight crosses them (``e^-700`` underflows to 0). The sort is done
    once, for every ``x`` and ``tau`` asked for.
    """

    def __init__(self, t: np.ndarray, seg: np.ndarray) -> None:
        t = np.asarray(t, dtype=float)
        _, self.seg_r = np.unique(seg, return_inverse=True)
        self.order = np.lexsort((t, self.seg_r))
        self.t0 = t[self.order] - (t.min() if t.size else 0.0)
        self.s0 = self.seg_r[self.order]
        self.span = float(self.t0.max()) if t.size else 0.0

    def __call__(self, x: np.ndarray, tau: float) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        if x.size == 0:
            return np.zeros(0)
        if not np.isfinite(tau):
            return np.bincount(self.seg_r, weights=x)[self.seg_r]
        z = self.t0 / tau + self.s0 * (self.span / tau + 750.0)
        xs = np.maximum(x[self.order], 0.0)  # 1 - Σ post can round to -1e-16
        with np.errstate(divide="ignore"):
            lx = np.log(xs)
        fwd = np.exp(np.logaddexp.accumulate(lx + z) - z)
        bwd = np.exp(np.logaddexp.accumulate((lx - z)[::-1])[::-1] + z)
        out = np.empty(x.size)
        out[self.order] = fwd + bwd - xs
        return np.maximum(out, 0.0)


def _triangulate(a: np.ndarray, log_lik: np.ndarray, P_ev: np.ndarray, P_ent: np.ndarray,
                 pair_start: np.ndarray, ev_cat: np.ndarray, prm: AttributionParams,
                 ev_day: np.ndarray | None = None, info: dict[str, Any] | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Empirical-Bayes triangulation across the events of each category (step 9).

    Each event of category ``k`` is caused by one enterprise ``j`` (mixture weight
    ``π_jk``) or by the background (``π_bk``). EM: E-step ``post_je ∝ π_j a_je L_je``,
    background ``π_b · background_prior``; M-step ``π_j = (Σ_e post_je + α) / (N_k + α n)``
    with ``α = 0.5``. The reported posterior of event ``e`` uses leave-one-out weights
    (its own posterior removed from the sums), so an event never supports itself.

    With ``ev_day`` (event times, days) the weights are local in time: the sums over
    events ``e'`` weigh each by ``exp(-|t_e - t_e'| / τ)``, so ``π_j`` at event ``e`` is
    what the events around it say. ``τ`` (days) is chosen per category from
    ``prm.triangulation_tau_days`` by the events' leave-one-out evidence
    ``log(b + Σ_j a_je m_je L_je)``, with the one-standard-error rule
    (:func:`_choose_time_scale`); ``τ = inf`` is the global form above. The chosen ``τ``
    per category goes to ``info["triangulation_tau_days"]``.

    Returns
    -------
    post : ndarray
        Posterior per (event, candidate) pair.
    mult : ndarray
        The prior multiplier applied to ``a_je``: ``π_j^(-e)`` rescaled so that the
        candidates' total prior mass in the event is unchanged (the background keeps
        ``background_prior``).
    """
    n_ev = pair_start.size - 1
    bg0 = prm.background_prior
    alpha = 0.5
    # categories as integer codes: comparisons of hundreds of thousands of pairs' strings
    # were a measurable part of a 1M-complaint trace
    cat_names, ev_code = np.unique(np.asarray(ev_cat), return_inverse=True)
    ev_code = ev_code.ravel()
    cat_pair = ev_code[P_ev]
    mult = np.ones(a.size)
    bgw = np.full(n_ev, bg0)
    post = _posterior(a, log_lik, pair_start, bgw)
    if prm.eb_iterations <= 0:
        return post, mult
    taus = _check_time_scales(prm.triangulation_tau_days)
    if ev_day is None or taus.size == 0:
        taus = np.array([np.inf])
    chosen: dict[str, float] = {}
    ev_has = np.diff(pair_start) > 0
    for kc in np.unique(ev_code[ev_has]):  # the categories of the events with candidates
        k = cat_names[kc]
        pm = cat_pair == kc
        evs = np.flatnonzero((ev_code == kc) & ev_has)
        n_k = evs.size
        if n_k < 2:
            continue
        ents, jloc = np.unique(P_ent[pm], return_inverse=True)
        n_comp = ents.size + 1
        pidx = np.flatnonzero(pm)
        ev_local = np.searchsorted(evs, P_ev[pidx])
        sub_start = np.searchsorted(ev_local, np.arange(n_k + 1))
        # the weights are learnt from the wind, hours and alarms evidence only: inside the
        # EM every candidate of an event gets the event's mean plausibility, so an
        # enterprise's distance/industry prior is not counted again through the other
        # events' posteriors (a big plant would otherwise gain weight by reputation alone);
        # the event's own posterior below uses its own a_je once
        num = np.bincount(ev_local, weights=a[pidx], minlength=n_k)  # candidates' prior mass
        a_m = (num / np.maximum(np.bincount(ev_local, minlength=n_k), 1))[ev_local]
        t_ev = ev_day[evs] if ev_day is not None else np.zeros(n_k)
        t_pair = t_ev[ev_local]
        zero_ev = np.zeros(n_k, dtype=np.int64)
        by_ent, by_ev = _KernelSums(t_pair, jloc), _KernelSums(t_ev, zero_ev)
        tried: list[tuple[float, np.ndarray, np.ndarray]] = []  # (τ, multipliers, evidence)
        for tau in taus:
            # N(e) = Σ_e' K(e, e'), every sum over events with the event itself included
            n_e = by_ev(np.ones(n_k), tau)
            pi = np.full(pidx.size, 1.0 / n_comp)
            pi_b = np.full(n_k, 1.0 / n_comp)
            for it in range(prm.eb_iterations + 1):
                pst = _posterior(a_m * pi, log_lik[pidx], sub_start, pi_b * bg0)
                if it == prm.eb_iterations:
                    break
                tot = by_ent(pst, tau)
                tot_b = by_ev(1.0 - np.bincount(ev_local, weights=pst, minlength=n_k), tau)
                pi = (tot + alpha) / (n_e[ev_local] + alpha * n_comp)
                pi_b = (tot_b + alpha) / (n_e + alpha * n_comp)
            tot = by_ent(pst, tau)
            loo = (tot - pst + alpha) / (n_e[ev_local] - 1.0 + alpha * n_comp)
            # redistribute the candidates' prior mass only: the background keeps its weight
            den = np.bincount(ev_local, weights=a[pidx] * loo, minlength=n_k)
            m_k = loo * (num / np.maximum(den, 1e-300))[ev_local]
            if not np.isfinite(m_k).all():
                continue
            lev = np.zeros(n_k)
            if taus.size > 1:
                _, lev = _posterior(a[pidx] * m_k, log_lik[pidx], sub_start, np.full(n_k, bg0),
                                    log_evidence=True)
            tried.append((float(tau), m_k, lev))
        if not tried:  # no usable weights: the event's own evidence alone
            if info is not None:
                info.setdefault("warnings", []).append(
                    f"triangulation: no usable weights for {k} events; each judged on its own")
            continue
        i = _choose_time_scale(np.array([t for t, _, _ in tried]), [lv for _, _, lv in tried])
        mult[pidx] = tried[i][1]
        chosen[str(k)] = tried[i][0]
    if info is not None and chosen:
        info["triangulation_tau_days"] = chosen
    post = _posterior(a * mult, log_lik, pair_start, bgw)
    return post, mult


def _choose_time_scale(taus: np.ndarray, levs: list[np.ndarray]) -> int:
    """Index of the triangulation's time scale by the one-standard-error rule (Hastie,
    Tibshirani & Friedman 2009, §7.10) on the events' leave-one-out log evidence: the
    longest ``τ`` (``inf`` first) whose total is within one standard error of the best
    total, the error from the events' paired differences with the best,
    ``√n · sd(lev_best − lev_τ)``. A shorter scale must earn its place: on a month of
    events, differences of a fraction of a nat are noise.
    """
    taus = np.asarray(taus, dtype=float)
    tot = np.array([float(np.sum(lv)) for lv in levs])
    b = int(np.argmax(tot))
    for i in np.argsort(-taus, kind="stable"):
        d = np.asarray(levs[b]) - np.asarray(levs[i])
        se = float(np.sqrt(d.size) * d.std(ddof=1)) if d.size > 1 else 0.0
        if tot[i] >= tot[b] - se:
            return int(i)
    return b


def odour_word_trust(masks: Sequence[np.ndarray], *, cap: float, prior_pairs: float = 20.0
                     ) -> float:
    """How far complainants' words for a smell can be believed to name the source's kind of
    smell (step 7c), from the events' own texts.

    ``masks`` holds, per event, the odour-family bit masks of its complaints that name one
    (:func:`envtrace.classify.odour_families`). If each names a family of the event's
    source with probability ``s`` and otherwise a family drawn as over all these
    complaints, two complaints of one event share a family with probability
    ``a ≈ s² + (1 − s²) a0``, ``a0`` that of two complaints at random. So
    ``ŝ = √((a − a0) / (1 − a0))``, shrunk by ``pairs / (pairs + prior_pairs)`` and at
    most ``cap``; 0 when the words of an event agree no more than chance (words that say
    nothing of the source are ignored). Events holding two sources, or background
    complaints, make ``ŝ`` smaller, never larger.
    """
    pooled = [m for m in masks if m.size]
    if not pooled or cap <= 0:
        return 0.0
    allm = np.concatenate(pooled)
    um, cnt = np.unique(allm, return_counts=True)
    pm = cnt / cnt.sum()
    share = (um[:, None] & um[None, :]) != 0
    a0 = float(pm @ share @ pm)
    n_pairs = 0.0
    n_shared = 0.0
    for m in pooled:
        if m.size < 2:
            continue
        u, c = np.unique(m, return_counts=True)
        sh = (u[:, None] & u[None, :]) != 0
        tot = c.sum() * (c.sum() - 1) / 2.0
        same = float(c @ sh @ c - (c * sh.diagonal()).sum()) / 2.0  # pairs of distinct complaints
        n_pairs += tot
        n_shared += same
    if n_pairs == 0 or a0 >= 1.0:
        return 0.0
    a = n_shared / n_pairs
    s_hat = float(np.sqrt(max(a - a0, 0.0) / (1.0 - a0)))
    return float(min(s_hat * n_pairs / (n_pairs + prior_pairs), cap))


_ODOUR_BASE_SAMPLE = 20_000  # complaints read for the base rates of the odour words


def _kind_matrix(masks: np.ndarray, n: int) -> np.ndarray:
    """Bit masks of kinds of smell as a 0/1 float matrix, shape ``(len(masks), n)``."""
    return ((np.asarray(masks, dtype=np.int64)[:, None] >> np.arange(n)[None, :]) & 1).astype(float)


class _Words(NamedTuple):
    """What the complainants' words for the smell give (step 7c): per pair its log LR, per
    event the kinds named (``top``: most named, its count, complaints naming any, counts
    per kind), each enterprise's typical kinds, the kinds' base rates ``q`` and the trust
    ``s`` used, and per odour event the log LR of each used complaint's words per
    candidate (``None`` where none is computed; step 11 splits with it)."""

    log_lr: np.ndarray
    top: list[tuple[int, int, int, tuple[int, ...]]]
    families: np.ndarray
    q: np.ndarray | None
    trust: float
    per_complaint: list[np.ndarray | None]


def _named_in_texts(cp: pd.DataFrame, ent: pd.DataFrame, rows: np.ndarray,
                    aliases: Mapping[str, int] | None = None) -> tuple[np.ndarray, dict[str, int]]:
    """Per complaint the enterprise (index into ``ent``) its text names, -1 for none, read
    for ``rows`` only (:func:`envtrace.classify.named_enterprises`), and the aliases read
    with: ``aliases`` when given (the parts of split events: those of the first ranking,
    made from all the complaints' places and addresses), else made here."""
    out = np.full(len(cp), -1, dtype=np.int64)
    if "text" not in cp.columns or "name" not in ent.columns or rows.size == 0:
        return out, dict(aliases or {})
    from envtrace.classify import enterprise_aliases, named_enterprises

    if aliases is None:
        places = [*ent.get("area", pd.Series([], dtype=object)).dropna().unique().tolist(),
                  *cp.get("area", pd.Series([], dtype=object)).dropna().unique().tolist()]
        avoid = cp["address"].dropna().unique() if "address" in cp.columns else ()
        aliases = enterprise_aliases(ent["name"].tolist(), places=places, avoid=avoid)
    out[rows] = named_enterprises(cp["text"].iloc[rows], aliases)
    return out, dict(aliases)


class _Names(NamedTuple):
    """What the complainants' naming of enterprises gives (step 7d): per pair its log LR and
    the number of the event's complaints that name the candidate; the trust ``t`` and the
    salience scale ``D`` (metres) used."""

    log_lr: np.ndarray
    n_named: np.ndarray
    trust: float
    scale_m: float
    fame: np.ndarray | None = None


_NAME_TRUST_GRID = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)


def _named_terms(named: np.ndarray, ev_cat: np.ndarray, used_idx: list[np.ndarray],
                 used_w: list[np.ndarray], pair_start: np.ndarray, P_ev: np.ndarray,
                 P_ent: np.ndarray, W: np.ndarray,
                 xy: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], e_ok: np.ndarray, closed_h: np.ndarray, c_hour: np.ndarray, provisional: np.ndarray,
                 prm: AttributionParams, info: dict[str, Any],
                 *, fixed: tuple[float, float] | None = None,
                 fame_fixed: np.ndarray | None = None, ckey: np.ndarray | None = None) -> _Names:
    """Step 7d: the evidence of complainants who name an enterprise ("怀疑是凯瑞化工").

    ``named``: per complaint the enterprise its text names (-1: none;
    :func:`envtrace.classify.named_enterprises`); ``provisional``: log posterior
    (unnormalised) of each pair without the names; ``fixed``: ``(t, D)`` learnt before (the
    parts of split events). See the module docstring, step 7d.
    """
    from scipy.spatial import cKDTree

    n_pairs = P_ent.size
    n_ev = pair_start.size - 1
    n_named = np.zeros(n_pairs, dtype=np.int64)
    zero = _Names(np.zeros(n_pairs), n_named, 0.0, float("nan"))
    cx, cy, ex, ey = xy
    kidx = _category_codes(ev_cat)
    n_ent = W.shape[0]
    pkey = P_ev * n_ent + P_ent
    porder = np.argsort(pkey, kind="stable")
    pkey_s = pkey[porder]

    def pair_of(ev_i: np.ndarray, ent_j: np.ndarray) -> np.ndarray:
        """Pair index of (event, enterprise), -1 when the enterprise is no candidate."""
        q = ev_i * n_ent + ent_j
        at = np.minimum(np.searchsorted(pkey_s, q), max(pkey_s.size - 1, 0))
        ok = pkey_s.size > 0
        hit = (pkey_s[at] == q) if ok else np.zeros(q.size, dtype=bool)
        return np.where(hit, porder[at] if ok else -1, -1)

    # how many of each event's complaints (of its wind sample) name each candidate, for the
    # evidence line
    n_used = np.array([u.size for u in used_idx], dtype=np.int64)
    flat = np.concatenate(used_idx) if n_used.sum() else np.zeros(0, dtype=np.int64)
    fw = np.concatenate(used_w) if n_used.sum() else np.zeros(0)
    fev = np.repeat(np.arange(n_ev), n_used)
    has = named[flat] >= 0
    if not has.any():
        info["named"] = 0
        return zero
    pp = pair_of(fev[has], named[flat][has])
    np.add.at(n_named, pp[pp >= 0], 1)
    info["named"] = int(has.sum())
    if prm.name_max_trust <= 0:
        return zero._replace(n_named=n_named)
    # the naming complaints, with their weights
    j = named[flat]
    k = kidx[fev]
    keep = (j >= 0) & (k >= 0)
    # a firm that cannot cause the category, has no place or had closed: the name says nothing
    keep[keep] = (W[j[keep], k[keep]] > 0) & e_ok[j[keep]] & (closed_h[j[keep]] > c_hour[flat[keep]])
    if not keep.any():
        return zero._replace(n_named=n_named)
    rows, j, k, v, r_ev = flat[keep], j[keep], k[keep], fw[keep], fev[keep]
    # per event at most name_max_weight complainants' worth, in the fit as in the term
    V = np.bincount(r_ev, weights=v, minlength=n_ev)
    scale = np.where(V > 0, np.minimum(V, prm.name_max_weight) / np.maximum(V, 1e-12), 0.0)
    v = v * scale[r_ev]
    # notoriety: in how many events each firm is named (the parts of split events: the count
    # of the first ranking); a row's own event is left out, so that a source named by many
    # in its one event is not made notorious by it
    named_pairs = np.unique(r_ev * n_ent + j)
    n_events_named = (np.bincount(named_pairs % n_ent, minlength=n_ent).astype(float)
                      if fame_fixed is None or np.size(fame_fixed) != n_ent
                      else np.asarray(fame_fixed, dtype=float))

    def fame(firms: np.ndarray, ev_of: np.ndarray) -> np.ndarray:
        own = np.isin(ev_of * n_ent + firms, named_pairs)
        return 1.0 + np.maximum(n_events_named[firms] - own, 0.0)
    # salience: complainants name the plants they know, near home, that can cause the kind
    # of nuisance: pi_i(j) = w_jk exp(-d_ij / D) / Z_i(D) over the open enterprises
    scales = np.asarray(prm.name_scales_m, dtype=float) if fixed is None else np.array([fixed[1]])
    radius = 5.0 * float(max(prm.name_scales_m))  # the same neighbourhood in the parts' ranking
    pts = np.c_[cx[rows], cy[rows]]
    # per category, the name_neighbours nearest firms that can cause it (within radius): a
    # county of 10,000 firms has thousands within 10 km, whose terms e^(-d/D) are negligible
    kn = max(int(prm.name_neighbours), 1)
    d_nb = np.full((rows.size, kn), np.inf)
    nb = np.zeros((rows.size, kn), dtype=np.int64)
    for kk in np.unique(k):
        cap = np.flatnonzero(e_ok & (W[:, kk] > 0))
        sel_r = np.flatnonzero(k == kk)
        if cap.size == 0:
            continue
        m = min(kn, cap.size)
        dd, ii = cKDTree(np.c_[ex[cap], ey[cap]]).query(pts[sel_r], k=m, distance_upper_bound=radius)
        dd, ii = dd.reshape(sel_r.size, m), ii.reshape(sel_r.size, m)
        found = np.isfinite(dd)
        d_nb[sel_r[:, None], np.arange(m)[None, :]] = dd
        nb[sel_r[:, None], np.arange(m)[None, :]] = np.where(found, cap[np.minimum(ii, cap.size - 1)], 0)
    found = np.isfinite(d_nb)
    w_nb = np.where(found, W[nb, k[:, None]] * (closed_h[nb] > c_hour[rows][:, None]), 0.0)
    d_nb = np.where(found, d_nb, 0.0)
    d_own = np.hypot(ex[j] - pts[:, 0], ey[j] - pts[:, 1])
    w_own = W[j, k]
    outside = ~((nb == j[:, None]) & found).any(axis=1)  # the named firm itself always counts
    # a share name_floor of the names goes to a firm of the neighbourhood whatever its
    # distance, in proportion to its notoriety (a notorious plant is named from afar):
    # pi = (1 - f) pi_local + f n_j w_j / sum n w, n one more than the other events naming it
    f = float(prm.name_floor)
    fame_own = fame(j, r_ev)
    W_sum = (w_nb * fame(nb, r_ev[:, None])).sum(axis=1) + np.where(outside, w_own * fame_own, 0.0)
    flat_pi = w_own * fame_own / np.maximum(W_sum, 1e-300)
    pis = []
    for D in scales:
        Z = (w_nb * np.exp(-d_nb / D)).sum(axis=1)
        own = w_own * np.exp(-d_own / D)
        Z = Z + np.where(outside, own, 0.0)
        pis.append(np.clip((1 - f) * own / np.maximum(Z, 1e-300) + f * flat_pi, 1e-9, 1.0))
    # the provisional posterior: of the named firm (q) and of the background (p_bg)
    post0 = _posterior(np.ones(n_pairs), provisional, pair_start, prm.background_prior)
    p_bg = 1.0 - np.bincount(P_ev, weights=post0, minlength=n_ev)
    pj = pair_of(r_ev, j)
    q = np.where(pj >= 0, post0[np.maximum(pj, 0)], 0.0)
    pb = np.clip(p_bg[r_ev], 0.0, 1.0)
    if fixed is None:
        # one complainant naming one firm again and again, across events, is one opinion
        v_fit = v
        if ckey is not None:
            kk = ckey[rows]
            known = kk >= 0
            if known.any():
                _, inv, cnt = np.unique(np.c_[kk[known], j[known]], axis=0, return_inverse=True,
                                        return_counts=True)
                v_fit = v.copy()
                v_fit[known] = v[known] / cnt[inv.reshape(-1)]
        best = (-np.inf, 0.0, float(scales[0]))
        base = -np.inf
        for D, pi in zip(scales, pis, strict=True):
            for t in _NAME_TRUST_GRID:
                if t > prm.name_max_trust:
                    continue
                ll = float((v_fit * np.log((t * q + (1 - t) * (1 - pb) * pi) + pb * pi)).sum())
                if t == 0.0:
                    base = max(base, ll)
                if ll > best[0]:
                    best = (ll, t, float(D))
        gain, t_hat, D_hat = best[0] - base, best[1], best[2]
        info["name_gain"] = round(gain, 2)
        if gain < prm.name_min_gain:
            t_hat = 0.0
    else:
        t_hat, D_hat = float(fixed[0]), float(fixed[1])
    info["name_trust"], info["name_scale_m"] = round(t_hat, 3), D_hat
    if t_hat <= 0:
        return _Names(np.zeros(n_pairs), n_named, 0.0, D_hat, n_events_named)
    pi = pis[int(np.flatnonzero(scales == D_hat)[0])]
    rho = t_hat / (1.0 - t_hat)
    # per event (v capped above): every candidate gets -log(1 + rho) per unit of weight,
    # the named one log(1 + rho / pi) more
    log_lr = -np.log1p(rho) * np.bincount(r_ev, weights=v, minlength=n_ev)[P_ev]
    hit = pj >= 0
    np.add.at(log_lr, pj[hit], v[hit] * np.log1p(rho / pi[hit]))
    return _Names(log_lr, n_named, t_hat, D_hat, n_events_named)


def _odour_words(cp: pd.DataFrame, ev_cat: np.ndarray, used_idx: list[np.ndarray],
                 used_w: list[np.ndarray], pair_start: np.ndarray, P_ent: np.ndarray,
                 codes: Sequence[str], ckey: np.ndarray, prm: AttributionParams,
                 rng: np.random.Generator, info: dict[str, Any], provisional: np.ndarray,
                 trust_fixed: float | None = None, q_fixed: np.ndarray | None = None,
                 llr_for: np.ndarray | None = None) -> _Words:
    """Step 7c: the odour words' evidence (:class:`_Words`).

    ``provisional``: log posterior (unnormalised) of each pair without the words; the words'
    trust is multiplied by how well the lexicon's kinds fit the likely sources
    (:func:`odour_lexicon_fit`). ``ckey``: complainant codes per complaint (-1: none).
    ``trust_fixed``, ``q_fixed``: the trust to use (already multiplied by the fit) and the
    kinds' base rates, instead of their estimates from these events and complaints (the
    parts of split events are ranked with those of the whole record). ``llr_for``: the
    events (bool per event) to return the per-complaint log LR for (none by default)."""
    n_pairs = P_ent.size
    ev_odour = np.asarray(ev_cat) == "odour"
    none = _Words(np.zeros(n_pairs), [(-1, 0, 0, ())] * len(ev_cat), np.zeros(len(codes), dtype=np.int64),
                  None, 0.0, [None] * len(ev_cat))
    if prm.odour_word_trust <= 0 or "text" not in cp.columns or not ev_odour.any():
        return none
    from envtrace.classify import industry_odour_families, odour_families, odour_lexicon

    n_f = len(odour_lexicon())
    parts = [used_idx[e] for e in np.flatnonzero(ev_odour) if used_idx[e].size]
    if not parts:
        return none
    idx = np.unique(np.concatenate(parts))
    # base rates of the families over the record's odour complaints (a seeded sample)
    pool = (np.flatnonzero((cp["category"] == "odour").to_numpy(dtype=bool, na_value=False))
            if "category" in cp.columns and q_fixed is None else idx)
    if pool.size > _ODOUR_BASE_SAMPLE:
        pool = np.sort(rng.choice(pool, size=_ODOUR_BASE_SAMPLE, replace=False))
    need = np.union1d(idx, pool)  # each text read once
    full = np.zeros(len(cp), dtype=np.int64)
    full[need] = odour_families(cp["text"].iloc[need])
    no_m, no_w = np.zeros(0, dtype=np.int64), np.zeros(0)
    masks, weights = [no_m] * len(ev_cat), [no_w] * len(ev_cat)
    # the agreement within events counts each complainant once (repeat calls of one
    # person do not make the words of an event agree)
    per_person = [no_m] * len(ev_cat)
    for e in np.flatnonzero(ev_odour):
        m = full[used_idx[e]]
        keep = m != 0
        masks[e], weights[e] = m[keep], used_w[e][keep]
        k = ckey[used_idx[e][keep]]
        first = np.ones(k.size, dtype=bool)
        keyed = np.flatnonzero(k >= 0)
        _, pos = np.unique(k[keyed], return_index=True)
        first[keyed] = False
        first[keyed[pos]] = True
        per_person[e] = masks[e][first]
    if q_fixed is not None:
        q = np.asarray(q_fixed, dtype=float)
    else:
        m_pool = full[pool]
        m_pool = m_pool[m_pool != 0]
        if m_pool.size == 0:
            return none
        has = _kind_matrix(m_pool, n_f)
        q = (has / has.sum(axis=1, keepdims=True)).sum(axis=0)  # a complaint naming k: 1/k each
        # a quarter of the mass spread evenly: a kind the sample never names is not taken to
        # be impossible (one word of it would weigh thousands-fold), LR ≤ 4·n_kinds·s each
        q = 0.75 * q / q.sum() + 0.25 / n_f
    trust = (odour_word_trust(per_person, cap=prm.odour_word_trust) if trust_fixed is None
             else float(trust_fixed))
    ent_fam = industry_odour_families(codes)
    if trust > 0 and trust_fixed is None:
        fit = odour_lexicon_fit(masks, weights, ev_odour, pair_start, P_ent, ent_fam, q, trust,
                                provisional, margin=prm.odour_fit_margin)
        info["odour_lexicon_fit"] = round(fit, 3)
        trust *= fit
    info["odour_words"] = int(sum(m.size for m in masks))
    info["odour_word_trust"] = round(trust, 3)
    if trust <= 0:  # the words are not believed: no factor, and no evidence line
        return none._replace(families=ent_fam, q=q, trust=float(trust))
    log_w, top, llr = _odour_word_terms([full[u] for u in used_idx], used_w, ev_odour, pair_start, P_ent,
                                        ent_fam, q, trust, prm.odour_max_weight, llr_for=llr_for)
    return _Words(log_w, top, ent_fam, q, float(trust), llr)


def odour_lexicon_fit(masks: Sequence[np.ndarray], weights: Sequence[np.ndarray], ev_odour: np.ndarray,
                      pair_start: np.ndarray, P_ent: np.ndarray, ent_fam: np.ndarray, q: np.ndarray,
                      trust: float, log_post: np.ndarray, *, margin: float = 1.0) -> float:
    """How well the lexicon's kinds of smell fit the sources the other evidence points at,
    0–1 (step 7c).

    In each odour event, the suspect ranked first by the provisional posterior without the
    words (``log_post``), among the candidates whose industry has listed kinds, stands for
    the source. ``M`` is the mean share of the events' named kinds (complainant-weighted)
    that are typical of that suspect; ``M0`` the same if the words were drawn as over all
    complaints (``q``); ``M1`` what a right lexicon would give, ``s + (1 − s)·q(F_j)``. The
    fit is ``(M − M0) / (M1 − M0)``, clipped to 0–1, and the words' trust is multiplied by
    it: a lexicon that says printers smell of ink where the county's printers are
    described as smelling of pulp fits less, and the words count less. Events the other
    evidence ranks wrongly make the fit smaller (conservative), never larger.

    With ``margin > 1`` the suspects the other evidence cannot tell from the first one
    (provisional posterior within a factor ``margin`` of it, e.g. plants in one plume)
    stand for the source together: a named kind fits when it is typical of any of them,
    and ``M0``, ``M1`` use the union of their kinds. (With ``margin = 1`` a look-alike
    neighbour that the wind ranks a hair above the source makes the right lexicon look
    wrong, and the words that would tell the two apart are discounted.)
    """
    n_f = q.size
    m_obs = m_0 = m_1 = 0.0
    for e in np.flatnonzero(ev_odour):
        m = masks[e]
        if m.size == 0:
            continue
        sl = slice(pair_start[e], pair_start[e + 1])
        fam = ent_fam[P_ent[sl]]
        known = fam != 0
        if not known.any():
            continue
        lp = log_post[sl][known]
        has = _kind_matrix(m, n_f)
        h = (has / has.sum(axis=1, keepdims=True) * weights[e][:, None]).sum(axis=0)
        h /= h.sum()  # the event's named kinds, complainant-weighted
        if margin > 1.0:  # the suspects within the margin, as one: the union of their kinds
            near = fam[known][lp >= lp.max() - np.log(margin)]
            typ = _kind_matrix(np.array([np.bitwise_or.reduce(near)]), n_f)
            w_c = np.ones(1)
        else:
            w_c = (lp == lp.max()).astype(float)
            w_c /= w_c.sum()
            typ = _kind_matrix(fam[known], n_f)  # (cand, kinds)
        qF = typ @ q
        m_obs += float(w_c @ (typ @ h))
        m_0 += float(w_c @ qF)
        m_1 += float(w_c @ (trust + (1.0 - trust) * qF))
    if m_1 <= m_0:  # no event with a suspect of listed kinds, too
        return 0.0
    return float(np.clip((m_obs - m_0) / (m_1 - m_0), 0.0, 1.0))


def _odour_complaint_log_lr(masks: np.ndarray, F: np.ndarray, q: np.ndarray, trust: float
                            ) -> np.ndarray:
    """log LR of each complaint's named kinds of smell, per candidate (step 7c, one
    complaint): ``(n_cand, n_complaints)``, 0 for a complaint naming none and for a
    candidate whose industry has no listed kind."""
    out = np.zeros((F.shape[0], masks.size))
    named = masks != 0
    nF = F.sum(axis=1)
    ok = nF > 0
    if not named.any() or not ok.any():
        return out
    has = _kind_matrix(masks[named], q.size)  # (complaints, kinds)
    typ = F[ok] / nF[ok, None]
    lr = (trust * typ[:, None, :] + (1.0 - trust) * q[None, None, :]) / q[None, None, :]
    lr_c = (lr * has[None, :, :]).sum(axis=2) / has.sum(axis=1)[None, :]
    out[np.ix_(ok, np.flatnonzero(named))] = np.log(lr_c)
    return out


def _odour_word_terms(used_masks: list[np.ndarray], used_w: list[np.ndarray], ev_odour: np.ndarray,
                      pair_start: np.ndarray, P_ent: np.ndarray, ent_fam: np.ndarray, q: np.ndarray,
                      trust: float, max_weight: float, *, llr_for: np.ndarray | None = None
                      ) -> tuple[np.ndarray, list[tuple[int, int, int, tuple[int, ...]]], list[np.ndarray | None]]:
    """log LR of the complainants' odour words per (event, candidate) pair (step 7c): the
    complainant-weighted mean of the log LR of the complaints naming a kind
    (:func:`_odour_complaint_log_lr`, ``P(words | j) / P(words | anything)``) times their
    weight, at most ``max_weight``; per event the family most named, how many complaints
    name it, how many name any and the counts per family; and, for the events ``llr_for``
    marks, the complaints' log LR (candidates × the event's used complaints, ``used_masks``
    their kinds; 0 for a complaint naming none)."""
    n_fam = q.size
    log_w = np.zeros(P_ent.size)
    top: list[tuple[int, int, int, tuple[int, ...]]] = [(-1, 0, 0, ())] * len(used_masks)
    llr: list[np.ndarray | None] = [None] * len(used_masks)
    F = _kind_matrix(ent_fam[P_ent], n_fam)  # (pairs, families)
    for e, (m, w_all) in enumerate(zip(used_masks, used_w, strict=True)):
        keep = m != 0
        if not ev_odour[e] or not keep.any():
            continue
        named = _kind_matrix(m[keep], n_fam).sum(axis=0)
        top[e] = (int(np.argmax(named)), int(named.max()), int(keep.sum()), tuple(int(v) for v in named))
        sl = slice(pair_start[e], pair_start[e + 1])
        L = _odour_complaint_log_lr(m[keep], F[sl], q, trust)  # 0 for an industry of unknown smell
        w = w_all[keep]
        wsum = float(w.sum())
        log_w[sl] = min(wsum, max_weight) * (L * w).sum(axis=1) / wsum
        if llr_for is not None and llr_for[e]:
            llr[e] = np.zeros((L.shape[0], m.size))
            llr[e][:, keep] = L
    return log_w, top, llr


def _prepare_alarms(alarms: pd.DataFrame | None, e_id: np.ndarray, *, episode_gap_h: float = 0.0
                    ) -> tuple[dict[int, float], dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]] | None:
    """Per enterprise index: the rate of alarm *episodes* per hour over the record, and its
    alarms' times (fractional hours, sorted), pollutants and episode numbers. Alarms at
    most ``episode_gap_h`` hours after the one before belong to one episode (one upset
    exceeds the limit hour after hour); 0: every alarm its own."""
    if alarms is None or len(alarms) == 0:
        return None
    if not {"enterprise_id", "time"}.issubset(alarms.columns):
        raise InputError("alarms: missing column(s) enterprise_id/time")
    t = _hour_index(_tz_time(alarms["time"])).astype(float)
    ok = t != float(np.iinfo(np.int64).min)
    # minutes matter for the 6 h window: use fractional hours
    tt = _tz_time(alarms["time"])
    frac = (tt.dt.minute.fillna(0).to_numpy() / 60.0) if hasattr(tt, "dt") else 0.0
    t = t + frac
    pos = {v: i for i, v in enumerate(e_id)}
    ei = np.array([pos.get(str(v), -1) for v in alarms["enterprise_id"].astype(str)], dtype=np.int64)
    pol = (alarms["pollutant"].fillna("").astype(str).to_numpy() if "pollutant" in alarms.columns
           else np.full(len(alarms), "", dtype=object))
    ok &= ei >= 0
    if not ok.any():
        return ({}, {})
    span = max(float(t[ok].max() - t[ok].min()), 24.0 * 30)
    rate: dict[int, float] = {}
    table: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for j in np.unique(ei[ok]):
        m = ok & (ei == j)
        o = np.argsort(t[m], kind="stable")
        tj = t[m][o]
        ep = np.cumsum(np.r_[True, np.diff(tj) > episode_gap_h]) - 1
        table[int(j)] = (tj, pol[m][o], ep)
        rate[int(j)] = float(ep[-1] + 1) / span
    return rate, table


FINDING_ACTIONS: tuple[str, ...] = ("penalty_case", "police_transfer")


def _local_days(times: Any, tz: Any) -> np.ndarray:
    """Calendar day numbers (days since 1970-01-01) of ``times`` in zone ``tz``; naive times
    and date strings are taken as local already, zoned ones (of any zone, mixed or not) are
    converted to ``tz``. ``NaN`` where unparsable."""
    t = pd.Series(times)
    if not isinstance(t.dtype, pd.DatetimeTZDtype):
        try:
            parsed = pd.to_datetime(t, errors="coerce")
        except (ValueError, TypeError):  # mixed offsets
            parsed = None
        if parsed is None or (parsed.isna() & t.notna()).any():
            # element by element: mixed zones (or zoned and naive values) in one column
            days = []
            for x in t.tolist():
                try:
                    ts = pd.Timestamp(x)
                except (ValueError, TypeError):
                    ts = pd.NaT
                if ts is not pd.NaT and ts.tzinfo is not None and tz is not None:
                    ts = ts.tz_convert(tz)
                days.append(np.nan if ts is pd.NaT else float(
                    (pd.Timestamp(ts.date()) - pd.Timestamp("1970-01-01")).days))
            return np.asarray(days, dtype=float)
        t = parsed
        if isinstance(t.dtype, pd.DatetimeTZDtype) and tz is not None:
            t = t.dt.tz_convert(tz)
    elif tz is not None:
        t = t.dt.tz_convert(tz)
    if isinstance(t.dtype, pd.DatetimeTZDtype):
        t = t.dt.tz_localize(None)
    day = t.dt.normalize().astype("datetime64[ns]").to_numpy()
    out = (day - np.datetime64("1970-01-01", "ns")) / np.timedelta64(1, "D")
    return np.where(pd.isna(day), np.nan, out).astype(float)


@dataclass
class _Findings:
    table: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]  # local day numbers, actions, dates
    n_enterprises: int


def _prepare_findings(actions: pd.DataFrame | None, e_id: np.ndarray, tz: Any) -> _Findings | None:
    """Enforcement findings per enterprise, on the complaints' local calendar (zone ``tz``).
    None without an ``actions`` record or with an empty one."""
    if actions is None or len(actions) == 0:
        return None
    if not {"enterprise_id", "date", "action"}.issubset(actions.columns):
        raise InputError("actions: missing column(s) enterprise_id/date/action")
    act = actions["action"].fillna("").astype(str).to_numpy()
    day = _local_days(actions["date"], tz)
    label = (pd.to_datetime("1970-01-01") + pd.to_timedelta(np.nan_to_num(day), unit="D")).strftime("%Y-%m-%d")
    label = np.asarray(label, dtype=object)
    pos = {v: i for i, v in enumerate(e_id)}
    ei = np.array([pos.get(str(v), -1) for v in actions["enterprise_id"].fillna("").astype(str)],
                  dtype=np.int64)
    ok = np.isin(act, FINDING_ACTIONS) & (ei >= 0) & np.isfinite(day)
    rows = np.flatnonzero(ok)
    rows = rows[np.lexsort((day[rows], ei[rows]))]  # by enterprise, then day (stable)
    ents, first = np.unique(ei[rows], return_index=True)
    table = {int(j): (day[g], act[g], label[g])
             for j, g in zip(ents, np.split(rows, first[1:]) if rows.size else [], strict=True)}
    return _Findings(table=table, n_enterprises=len(e_id))


def _history_terms(findings: _Findings, P_ev: np.ndarray, P_ent: np.ndarray, start_day: np.ndarray,
                   prm: AttributionParams) -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
    """log LR_hist per (event, candidate) pair (step 7b), the number of findings counted, and
    the latest one's local date and action (for the evidence line).

    A finding counts for an event when its local date is before the event's first complaint
    day and at most ``history_window_days`` before it; the base rate ``b`` of each event
    counts the enterprises with such a finding in the same window (Beta(1, 49) prior).
    """
    r = float(prm.history_recall)
    win = float(prm.history_window_days)
    n_ev = start_day.size
    ok_ev = np.isfinite(start_day)
    hits: dict[int, np.ndarray] = {}  # enterprise -> (first, last) finding index per event
    n_with = np.zeros(n_ev)
    for j, (d_f, _a, _l) in findings.table.items():
        lo = np.searchsorted(d_f, np.where(ok_ev, start_day - win, np.inf), side="left")
        hi = np.searchsorted(d_f, np.where(ok_ev, start_day, -np.inf), side="left")  # strictly before
        hi = np.maximum(hi, lo)
        hits[j] = np.stack([lo, hi])
        n_with += hi > lo
    b = (n_with + 1.0) / (findings.n_enterprises + 50.0)  # per event
    log_h = (np.log1p(-r) - np.log1p(-b))[P_ev]
    n = P_ev.size
    n_find = np.zeros(n, dtype=np.int64)
    last_day: list[str] = [""] * n
    last_act: list[str] = [""] * n
    known = np.fromiter(findings.table, dtype=np.int64, count=len(findings.table))
    for p in np.flatnonzero(np.isin(P_ent, known)):
        j, e = int(P_ent[p]), int(P_ev[p])
        lo, hi = hits[j][:, e]
        if hi > lo:
            log_h[p] = np.log(r) - np.log(b[e])
            n_find[p] = hi - lo
            _d, a_f, l_f = findings.table[j]
            last_day[p], last_act[p] = str(l_f[hi - 1]), str(a_f[hi - 1])
    return log_h, n_find, last_day, last_act


def _wind_structures(prm: AttributionParams, ev_cat: np.ndarray, used_idx: list[np.ndarray],
                     used_w: list[np.ndarray], pair_start: np.ndarray, P_ev: np.ndarray, P_ent: np.ndarray,
                     cx: np.ndarray, cy: np.ndarray, ex: np.ndarray, ey: np.ndarray,
                     c_hour: np.ndarray, lag_cls: np.ndarray, lag_tab: np.ndarray,
                     closed_h: np.ndarray, wd: _Wind, ent_profile: np.ndarray | None = None
                     ) -> dict[str, Any]:
    """Flat (pair, complaint) arrays for the wind term of events in WIND_CATEGORIES.

    ``ent_profile``: index into ``wd.profiles`` of each enterprise's operating profile, whose
    hours weigh its baseline ``B`` (0 or None: all hours alike).
    """
    pr, ci, cw = [], [], []
    for e in range(len(used_idx)):
        if ev_cat[e] not in WIND_CATEGORIES or used_idx[e].size == 0:
            continue
        ps = np.arange(pair_start[e], pair_start[e + 1])
        if ps.size == 0:
            continue
        mem = used_idx[e]
        pr.append(np.repeat(ps, mem.size))
        ci.append(np.tile(mem, ps.size))
        cw.append(np.tile(used_w[e], ps.size))
    if not pr:
        return {}
    pair = np.concatenate(pr)
    comp = np.concatenate(ci)
    wts = np.concatenate(cw)
    ent = P_ent[pair]
    dx = cx[comp] - ex[ent]
    dy = cy[comp] - ey[ent]
    dist = np.hypot(dx, dy)
    bearing = np.mod(np.rad2deg(np.arctan2(dx, dy)), 360.0)
    # per complaint, not per (candidate, complaint) row: tens of millions of rows at scale
    ucomp, comp_inv = _dense_unique(comp, cx.size)
    ugkey, glist = _station_groups(wd, cx[ucomp], cy[ucomp])
    gkey = ugkey[comp_inv]
    B = np.zeros((comp.size, 6 if prm.stratify_stability else 1))  # one column: same for all classes
    UB = np.zeros(comp.size)
    for g, k in enumerate(glist):
        m = slice(None) if len(glist) == 1 else gkey == g  # one group: views, no copies
        grp = wd.group(k)
        if prm.stratify_stability:
            for si in range(6):
                B[m, si] = _polar_lookup(grp.table_b[si], dist[m], bearing[m])
            UB[m] = _polar_lookup(grp.table_u, dist[m], bearing[m])
        else:
            B[m, 0], UB[m] = _polar_lookups((grp.b_all, grp.table_u), dist[m], bearing[m])
            if ent_profile is not None and wd.hod is not None:
                # enterprises working some hours only: B over their hours (activity_baseline)
                prof = ent_profile[ent] if len(glist) == 1 else ent_profile[ent[m]]
                for pi in np.unique(prof[prof > 0]):
                    sel = np.flatnonzero(prof == pi)
                    if len(glist) > 1:
                        sel = np.flatnonzero(m)[sel]
                    B[sel, 0] = _polar_lookup(wd.b_table(k, int(pi)), dist[sel], bearing[sel])
    closed_after = c_hour[comp].astype(float) >= closed_h[ent]
    uniq_pairs, pair_local = _dense_unique(pair, P_ent.size)
    return {
        "pair": pair, "comp": comp, "w": wts, "ev": P_ev[pair], "dx": dx, "dy": dy, "B": B, "UB": UB,
        "lag_cls": lag_cls[comp], "lag_tab": lag_tab, "hour": c_hour[comp], "gkey": gkey,
        "glist": glist, "closed_after": closed_after, "pairs": uniq_pairs, "pair_local": pair_local,
        "pb": prm.background_share,
    }


_Q_CUT = 8.0  # receptors > 8 σy off the plume axis get C = 0 (exp(-32) ≈ 1e-14 of the axis value)


def _hour_table(cache: dict[str, Any], wd: _Wind) -> dict[str, Any]:
    """Per-hour plume inputs of every station group, as flat ``(group, hour)`` arrays.

    The same element-wise expressions as :func:`_plume`, evaluated once per wind hour
    instead of once per (complaint, candidate, lag, shift).
    """
    tab = cache.get("_hour_table")
    if tab is not None:
        return tab
    groups = [wd.group(k) for k in cache["glist"]]
    th = np.concatenate([g.dir for g in groups])
    u = np.concatenate([g.spd for g in groups])
    st = np.concatenate([g.stab for g in groups])
    calm = ~np.isfinite(th) | (np.isfinite(u) & (u < _CALM_MS))
    phi = np.deg2rad(np.where(calm, 0.0, th) + 180.0)
    sig = _sigmas()
    xs = np.exp(np.linspace(sig.lx0, sig.lx1, sig.n))
    # upper bound of σy / x over classes and distances (nearest-point lookup: +0.2 %)
    r_max = float((sig.sy / np.tile(xs, 6)).max()) * 1.01
    tab = {
        "valid": np.concatenate([g.valid for g in groups]), "calm": calm,
        "sphi": np.sin(phi), "cphi": np.cos(phi),
        "uu": np.where(np.isfinite(u), np.maximum(u, _U_MIN_MS), 2.0),
        "tanm": _tan_meander(np.where(np.isfinite(u), np.maximum(u, _U_MIN_MS), 2.0)),
        "code": np.where(st < 0, 3, st), "st": st,
        "s_eff": np.where(st < 0, np.where(calm, 5, 3), st),
    }
    # per hour: |y| beyond cut · max(x, 1) m is more than _Q_CUT σy off the axis
    tab["cut"] = _Q_CUT * np.maximum(r_max, tab["tanm"] * 1.01)
    # each group's hours twice in a row: hour + shift (both < n_hours) needs no modulo
    n_h = wd.n_hours
    tab = {k: np.concatenate([np.r_[v[i * n_h:(i + 1) * n_h], v[i * n_h:(i + 1) * n_h]]
                              for i in range(len(groups))]) for k, v in tab.items()}
    # float32 copies for the pre-filter (half the memory traffic; exact test follows)
    for k in ("sphi", "cphi", "cut"):
        tab[k + "32"] = tab[k].astype(np.float32)
    cache["_hour_table"] = tab
    return tab


def _exposure(cache: dict[str, Any], wd: _Wind, rows: np.ndarray, shifts_h: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """R = Σ_h p(h) C / B_s, any-lag in-plume flag and 'has wind' flag, shape ``(rows, shifts)``.

    ``B_s`` is the long-run mean concentration over the hours of the same stability class
    as the lag hour (or over all hours when ``stratify_stability`` is off).

    The plume (:func:`_plume`, same expressions) is evaluated only where it can be
    non-zero: downwind receptors within ``_Q_CUT`` σy of the axis (an angular pre-filter
    with an upper bound of σy/x), and calm hours. The neglected terms are below
    ``exp(-32)`` of the axis concentration at that distance.
    """
    ns = shifts_h.size
    E = np.zeros((rows.size, ns))
    P = np.zeros((rows.size, ns))
    inside = np.zeros((rows.size, ns), dtype=bool)
    tab = _hour_table(cache, wd)
    sig = _sigmas()
    gamma = float(wd.gamma)
    lag_tab = cache["lag_tab"]
    cls = cache["lag_cls"][rows]
    base_all = cache["hour"][rows] - wd.h0
    dx_all = cache["dx"][rows][:, None]
    dy_all = cache["dy"][rows][:, None]
    goff_all = cache["gkey"][rows] * (2 * wd.n_hours)
    B_all = cache["B"][rows]
    dcalm_all = np.maximum(np.hypot(cache["dx"][rows], cache["dy"][rows]), 10.0)
    dx32_all, dy32_all = dx_all.astype(np.float32), dy_all.astype(np.float32)
    e_flat, in_flat = E.reshape(-1), inside.reshape(-1)
    for h in range(lag_tab.shape[1]):
        ph_all = lag_tab[cls, h]
        sub = np.flatnonzero(ph_all > 0)
        if not sub.size:
            continue
        # most rows: all rows as views (zero weights masked below); few: copy those rows
        full = sub.size >= 0.5 * rows.size
        sel = slice(None) if full else sub
        ph, base, goff, Bm, d_calm = ph_all[sel], base_all[sel], goff_all[sel], B_all[sel], dcalm_all[sel]
        dx, dy, dx32, dy32 = dx_all[sel], dy_all[sel], dx32_all[sel], dy32_all[sel]
        hi = base - h
        inrange = (hi >= 0) & (hi < wd.n_hours)
        gi = (np.where(inrange, hi, 0) + goff)[:, None] + shifts_h[None, :]
        ok = tab["valid"][gi] & (inrange & (ph > 0))[:, None]
        if not ok.any():
            continue
        P[sel] += np.where(ok, ph[:, None], 0.0)
        calm = tab["calm"][gi]
        # pre-filter in float32 with a 1 m margin (rounding is millimetres), then the
        # exact float64 test on the survivors: downwind and within _Q_CUT σy
        sphi, cphi = tab["sphi32"][gi], tab["cphi32"][gi]
        x32 = dx32 * sphi + dy32 * cphi
        y32 = dx32 * cphi - dy32 * sphi
        live = ok & ~calm & (x32 > -1.0)
        live &= np.abs(y32) <= tab["cut32"][gi] * np.maximum(x32, 1.0) + 1.0
        idx = np.flatnonzero(live)
        if idx.size:
            ri = idx // ns
            gl = gi.reshape(-1)[idx]
            sp, cp = tab["sphi"][gl], tab["cphi"][gl]
            x = dx[ri, 0] * sp + dy[ri, 0] * cp
            y = dx[ri, 0] * cp - dy[ri, 0] * sp
            keep = (x > 0) & (np.abs(y) <= tab["cut"][gl] * np.maximum(x, 1.0))
            idx, ri, gl, x, y = idx[keep], ri[keep], gl[keep], x[keep], y[keep]
        if idx.size:
            xe = np.maximum(x, 1.0)
            sy, sz = sig(xe, tab["code"][gl])
            sy = np.maximum(sy, xe * tab["tanm"][gl])
            sz = np.minimum(sz, _SIGMA_Z_MAX_M)
            q = y / sy
            if gamma == 1.0:
                c = np.exp(-0.5 * q * q) / (np.pi * tab["uu"][gl] * sy * sz)
            else:  # perceived intensity ~ C^γ (step 3)
                c = np.exp(-0.5 * gamma * q * q) * (np.pi * tab["uu"][gl] * sy * sz) ** -gamma
            b = Bm[ri, tab["s_eff"][gl]] if Bm.shape[1] > 1 else Bm[ri, 0]
            out = idx if full else sub[ri] * ns + idx % ns
            e_flat[out] += ph[ri] * np.where(b > 0, c / np.where(b > 0, b, 1.0), 0.0)
            in_flat[out] |= np.abs(q) <= 2.0
        idx = np.flatnonzero(ok & calm)
        if idx.size:
            ri = idx // ns
            gl = gi.reshape(-1)[idx]
            stc = tab["st"][gl]
            d = d_calm[ri]
            _, szc = sig(d, np.where(stc < 0, 5, stc))
            szc = np.minimum(szc, _SIGMA_Z_MAX_M)
            c = np.sqrt(2.0 / np.pi) / (szc * _U_CALM_MS * 2.0 * np.pi * d)
            if gamma != 1.0:
                c = c ** gamma
            b = Bm[ri, tab["s_eff"][gl]] if Bm.shape[1] > 1 else Bm[ri, 0]
            out = idx if full else sub[ri] * ns + idx % ns
            e_flat[out] += ph[ri] * np.where(b > 0, c / np.where(b > 0, b, 1.0), 0.0)
    has = P > 0
    E = np.where(has, E / np.where(has, P, 1.0), 0.0)
    return E, inside, has


def _terms(cache: dict[str, Any], wd: _Wind, rows: np.ndarray, shifts_h: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Weighted ``log(π_b + (1 − π_b) R)`` per (row, shift), with in-plume and has-wind
    flags and ``R`` itself (1 where there is no wind)."""
    R, ins, has = _exposure(cache, wd, rows, shifts_h)
    R = np.where(has, R, 1.0)
    pb = cache["pb"]
    term = np.log(pb + (1.0 - pb) * R)
    term = np.where(cache["closed_after"][rows][:, None], np.log(pb), term)
    return term * cache["w"][rows][:, None], ins, has, R


def _time_term(cache: dict[str, Any], wd: _Wind
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Observed log LR_time, in-plume share, all-hours in-plume share and the mean
    concentration ratio R over the complaints with wind, per pair; and the in-plume flag
    of each (pair, complaint) row of the cache."""
    rows = np.arange(cache["pair"].size)
    chunk = 200_000
    lt_rows = np.zeros(rows.size)
    ins_rows = np.zeros(rows.size, dtype=bool)
    has_rows = np.zeros(rows.size, dtype=bool)
    r_rows = np.zeros(rows.size)
    zero = np.zeros(1, dtype=np.int64)

    def _chunk(s0: int) -> None:  # disjoint slices: safe on threads
        t, ins, has, r = _terms(cache, wd, rows[s0:s0 + chunk], zero)
        lt_rows[s0:s0 + chunk] = t[:, 0]
        r_rows[s0:s0 + chunk] = r[:, 0]
        ins_rows[s0:s0 + chunk] = ins[:, 0]
        has_rows[s0:s0 + chunk] = has[:, 0]

    _hour_table(cache, wd)  # built once, before the threads
    with _pool() as pool:
        list(pool.map(_chunk, range(0, rows.size, chunk)))
    # per (pair, complaint) row, weighted, and whether it had wind: step 11 splits with them
    cache["term_w"], cache["has_w"] = lt_rows, has_rows
    loc = cache["pair_local"][rows]
    n = cache["pairs"].size
    lt = np.bincount(loc, weights=lt_rows, minlength=n)
    w = cache["w"][rows] * has_rows
    wsum = np.bincount(loc, weights=w, minlength=n)
    us = np.bincount(loc, weights=w * ins_rows, minlength=n)
    ub = np.bincount(loc, weights=w * cache["UB"][rows], minlength=n)
    rr = np.bincount(loc, weights=w * r_rows * ~cache["closed_after"][rows], minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        us = np.where(wsum > 0, us / wsum, np.nan)
        ub = np.where(wsum > 0, ub / wsum, np.nan)
        rr = np.where(wsum > 0, rr / wsum, np.nan)
    return lt, us, ub, rr, ins_rows


_PERM_BUDGET = 500_000  # (row, shift) elements per permutation task


def _pool() -> Any:
    """Thread pool for the independent chunks of the wind term (at most 4 threads)."""
    from concurrent.futures import ThreadPoolExecutor

    return ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1)))


def _permutation_p(cache: dict[str, Any], wd: _Wind, rows: np.ndarray,
                   n_perm: int, rng: np.random.Generator, prm: AttributionParams,
                   info: dict[str, Any]) -> np.ndarray:
    """Circular whole-day shift test of LR_time for the reported suspects (step 10).

    The observed statistic is recomputed on the same complaint sample as the shifts
    (``max_complaints_perm``), not taken from the score's ``LR_time``."""
    out = np.full(rows.size, np.nan)
    n_days = wd.n_hours // 24
    lo, hi = prm.min_shift_days, n_days - prm.min_shift_days
    if hi < lo:
        info["warnings"].append(
            f"wind record of {n_days} days is too short for the permutation test "
            f"(needs {2 * prm.min_shift_days}); p-values are NaN")
        return out
    sub = np.flatnonzero(np.isin(cache["pair"], rows))  # rows of reported pairs, sorted by pair
    if sub.size == 0:
        return out
    cap = prm.max_complaints_perm
    if cap > 0:
        # the same seeded sample of each event's complaints for all its suspects
        ev_rows = cache["ev"][sub]
        comp_rows = cache["comp"][sub]
        keep = np.ones(sub.size, dtype=bool)
        # distinct (event, complaint) rows in (event, complaint) order, by one integer key
        # (both are row numbers >= 0: at most events x complaints, far inside int64)
        span = int(comp_rows.max()) + 1
        key = np.unique(ev_rows.astype(np.int64) * span + comp_rows)
        pairs_ev = np.column_stack([key // span, key % span])
        ev_ids, ev_counts = np.unique(pairs_ev[:, 0], return_counts=True)
        for e in ev_ids[ev_counts > cap]:
            comps = pairs_ev[pairs_ev[:, 0] == e, 1]
            chosen = rng.choice(comps, size=cap, replace=False)
            m = ev_rows == e
            keep[m] = np.isin(comp_rows[m], chosen)
        sub = sub[keep]
    shifts = rng.integers(lo, hi + 1, size=int(n_perm))
    h = _mc.stop_count(prm.perm_stop_alpha, n_perm)
    loc = cache["pair_local"][sub]
    starts = np.flatnonzero(np.r_[True, loc[1:] != loc[:-1]])
    which = loc[starts]
    seg_len = np.diff(np.r_[starts, sub.size])

    def _plan(act: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[tuple[int, int]]]:
        """Rows of the active pairs, their segment starts and bounds, memory-bounded chunks."""
        ln = seg_len[act]
        rows_a = sub[np.repeat(starts[act], ln) + np.arange(int(ln.sum()))
                     - np.repeat(np.cumsum(ln) - ln, ln)]
        st = np.r_[0, np.cumsum(ln)[:-1]].astype(np.int64)
        bd = np.r_[st, rows_a.size]
        chunks: list[tuple[int, int]] = []
        i = 0
        while i < st.size:
            j = max(int(np.searchsorted(bd, bd[i] + _PERM_BUDGET, side="right")) - 1, i + 1)
            chunks.append((i, min(j, st.size)))
            i = chunks[-1][1]
        return rows_a, st, bd, chunks

    _hour_table(cache, wd)  # built once, before the threads
    everyone = np.arange(which.size)
    rows_a, st, bd, chunks = _plan(everyone)

    def _obs(ch: tuple[int, int]) -> np.ndarray:
        r = rows_a[bd[ch[0]]:bd[ch[1]]]
        t = _terms(cache, wd, r, np.zeros(1, dtype=np.int64))[0]
        return np.add.reduceat(t[:, 0], st[ch[0]:ch[1]] - bd[ch[0]])

    exceed = np.zeros(which.size, dtype=np.int64)
    ran = np.full(which.size, int(n_perm), dtype=np.int64)
    with _pool() as pool:
        obs = np.concatenate(list(pool.map(_obs, chunks)))  # same sample as the permutations
        # rounds of the shift sequence in draw order (one round without stopping); after
        # each, suspects with h exceedances stop at the shift where the h-th one fell
        edges = [0, int(n_perm)] if h is None else sorted(
            {0, int(n_perm), *[min(int(n_perm), 2 * h * 2 ** k) for k in range(32)]})
        act = everyone
        for a, b in zip(edges[:-1], edges[1:], strict=True):
            if act.size == 0:
                break
            if act.size < everyone.size:
                rows_a, st, bd, chunks = _plan(act)
            uniq, inv = np.unique(shifts[a:b], return_inverse=True)
            obs_a = obs[act]

            def _count(task: tuple[int, int, int, int], rows_a: np.ndarray = rows_a,
                       st: np.ndarray = st, bd: np.ndarray = bd, obs_a: np.ndarray = obs_a,
                       uniq: np.ndarray = uniq) -> np.ndarray:
                i0, i1, b0, b1 = task
                r = rows_a[bd[i0]:bd[i1]]
                t = _terms(cache, wd, r, uniq[b0:b1].astype(np.int64) * 24)[0]
                lt = np.add.reduceat(t, st[i0:i1] - bd[i0], axis=0)  # (pairs, shifts)
                return lt >= obs_a[i0:i1, None] - 1e-9

            tasks = []
            for i0, i1 in chunks:
                batch = max(1, min(uniq.size, _PERM_BUDGET // max(int(bd[i1] - bd[i0]), 1)))
                tasks += [(i0, i1, b0, min(b0 + batch, uniq.size)) for b0 in range(0, uniq.size, batch)]
            ind = np.zeros((act.size, uniq.size), dtype=bool)
            for (i0, i1, b0, b1), part in zip(tasks, pool.map(_count, tasks), strict=True):
                ind[i0:i1, b0:b1] = part
            # the round's shifts in draw order; the counts are integers, so sums are exact
            cum = exceed[act][:, None] + np.cumsum(ind[:, inv.reshape(-1)], axis=1)
            exceed[act] = cum[:, -1]
            if h is not None:
                hit = cum[:, -1] >= h
                ran[act[hit]] = a + 1 + np.argmax(cum[hit] >= h, axis=1)
                exceed[act[hit]] = h
                act = act[~hit]
    pmap = np.full(cache["pairs"].size, np.nan)
    pmap[which] = _mc.sequential_p(exceed, ran, n_perm, h)
    pos = np.searchsorted(cache["pairs"], rows)
    n = cache["pairs"].size
    has = (pos < n) & (cache["pairs"][np.minimum(pos, n - 1)] == rows)
    out[has] = pmap[pos[has]]
    return out


def _industry_labels(codes: Any, raw: np.ndarray, *, lang: str) -> np.ndarray:
    """Industry as shown in the evidence: ``code name`` in ``lang`` from the industry
    profiles (the matched code's name), else the input's own text."""
    from envtrace import profiles

    codes = ["" if c is None or (isinstance(c, float) and np.isnan(c)) else str(c) for c in codes]
    table = profiles.load_industry_profiles().set_index("code")
    col = "name_zh" if lang == "zh" else "name_en"
    found = profiles.profile_for(codes)
    out = np.asarray(raw, dtype=object).copy()
    names = table[col].fillna("").astype(str).str.strip()
    names = names[~names.index.duplicated()]
    name = found["matched_code"].fillna("").astype(str).map(names).fillna("").to_numpy(dtype=object)
    code_a = np.asarray(codes, dtype=object)
    use = (code_a != "") & (name != "")
    out[use] = code_a[use] + " " + name[use]
    return out


def _fmt_ratio(r: float) -> str:
    return f"{r:.1f}" if r < 10 else f"{r:.0f}" if r < 1000 else ">1000"


def _same_plume(ev: np.ndarray, bearing: np.ndarray, log_time: np.ndarray, wind_used: np.ndarray,
                *, max_angle_deg: float = _SIGMA_THETA_MIN_DEG, max_log_ratio: float = float(np.log(2.0)),
                ) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of suspects the wind cannot tell apart: ``(i, j)`` row indices, both ways.

    Rows are grouped by event (``ev`` non-decreasing). Two suspects of one event share a
    plume when the wind supports both (``LR_time`` above ``exp(max_log_ratio)``, 2), they
    lie within ``max_angle_deg`` (degrees; the plume's smallest meander, step 1) of each
    other as seen from the event centre, and their ``LR_time`` differ by less than that
    factor. Typically plants of one industrial park seen from homes several km away:
    inspect them together. Sorted by ``i``, then ``j``.
    """
    ii: list[np.ndarray] = []
    jj: list[np.ndarray] = []
    # only rows the wind supports can pair: compared among themselves (at 1M complaints a
    # tenth of the rows), the order and the grouping by event kept
    keep = np.flatnonzero(np.asarray(wind_used, dtype=bool) & (np.asarray(log_time) > max_log_ratio))
    ev, bearing, log_time = np.asarray(ev)[keep], np.asarray(bearing)[keep], np.asarray(log_time)[keep]
    n = keep.size
    for shift in range(1, n):
        i = np.arange(n - shift)
        j = i + shift
        same = ev[i] == ev[j]
        if not same.any():
            break
        d_ang = np.abs((bearing[i] - bearing[j] + 180.0) % 360.0 - 180.0)
        hit = same & (d_ang <= max_angle_deg) & (np.abs(log_time[i] - log_time[j]) < max_log_ratio)
        ii.append(keep[i[hit]])
        jj.append(keep[j[hit]])
    if not ii:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    a, b = np.concatenate(ii + jj), np.concatenate(jj + ii)
    o = np.lexsort((b, a))
    return a[o].astype(np.int64), b[o].astype(np.int64)


def _evidence(*, lang: str, category: str, wind: bool, wind_used: bool, up_share: float,
              up_base: float, distance: float, bearing: float, industry: str, alarms: bool,
              n_alarms: int, pollutant: str, window: float, p_value: float,
              r_mean: float = float("nan"), same_plume: Sequence[str] = (),
              same_plume_more: int = 0, n_findings: int = 0, finding_day: str = "",
              finding: str = "", odour: str = "", n_named: int = 0) -> str:
    parts: list[str] = []
    zh = lang == "zh"
    if wind_used and np.isfinite(up_share):
        base = f"{up_base:.0%}" if np.isfinite(up_base) else "?"
        parts.append(f"投诉时段{up_share:.0%}处于上风向（全年{base}）" if zh
                     else f"upwind in {up_share:.0%} of complaint hours ({base} of all hours)")
        if np.isfinite(r_mean):
            # the model's own quantity: modelled air from it at the complainants at the
            # complaint times, over its long-run mean there (R of step 3)
            parts.append(f"投诉时其污染物感知强度为常年平均的{_fmt_ratio(r_mean)}倍" if zh
                         else f"its air at {_fmt_ratio(r_mean)}× the usual intensity at complaint times")
        if same_plume or same_plume_more:
            more = same_plume_more + max(len(same_plume) - 3, 0)
            if zh:
                who = "、".join(same_plume[:3])
                who = (f"{who}及另外{more}家候选企业" if who else f"另外{more}家候选企业") if more else who
                parts.append(f"与{who}同处一个烟羽方向，风向无法区分，宜一并排查")
            else:
                who = ", ".join(same_plume[:3])
                tail = f"{more} more candidate{'s' if more > 1 else ''}"
                who = (f"{who} and {tail}" if who else tail) if more else who
                parts.append(f"in one plume with {who}: the wind cannot tell them apart, inspect together")
    elif category not in WIND_CATEGORIES:
        name_zh = {"noise": "噪声", "water": "水", "waste": "固废"}.get(category, category)
        parts.append(f"{name_zh}事件：不按风向（仅距离、行业、时段和报警）" if zh
                     else f"{category} event: no wind term (distance, industry, timing and alarms only)")
    elif not wind:
        parts.append("无风向数据：仅依据距离、行业、时段和报警" if zh
                     else "no wind data: distance, industry, timing and alarms only")
    else:
        parts.append("投诉时段无风向记录" if zh else "no wind record at complaint times")
    comp = _compass(bearing, lang)
    parts.append(f"距离{_fmt_distance(distance, lang)}（{comp}）" if zh
                 else f"{_fmt_distance(distance, lang)} {comp}")
    if industry:
        parts.append(f"行业{industry.replace(' ', '')}" if zh else industry)
    if odour:
        parts.append(odour)
    if n_named > 0:
        parts.append(f"{n_named}件投诉点名该企业" if zh
                     else f"named in {n_named} complaint{'s' if n_named > 1 else ''}")
    if alarms:
        h = f"{window:g}"
        if n_alarms > 0:
            pol = pollutant or ("" if zh else "")
            parts.append(f"投诉前{h}小时内{n_alarms}次{pol}超标报警" if zh
                         else f"{n_alarms} {pol + ' ' if pol else ''}alarms within {h} h before complaints")
        else:
            parts.append(f"投诉前{h}小时内无超标报警" if zh else f"no alarms within {h} h before complaints")
    if n_findings > 0:
        what_zh = _FINDING_ZH.get(finding, finding)
        what_en = finding.replace("_", " ")
        more = n_findings - 1
        parts.append(f"此前执法记录：{finding_day}{what_zh}" + (f"等{n_findings}次" if more else "") if zh
                     else f"earlier finding: {what_en} {finding_day}" + (f" (+{more} more)" if more else ""))
    p = _fmt_p(p_value)
    if p:
        parts.append(p)
    return ("；" if zh else "; ").join(parts)


_FINDING_ZH = {"penalty_case": "立案查处", "police_transfer": "移送公安"}


def _odour_evidence(top: tuple[int, int, int, tuple[int, ...]], fam_mask: int, lang: str) -> str:
    """The event's most named smell and whether it is typical of the suspect's industry; when
    it is not, the most named smell that is (if the complaints name one). Counts are over
    the complaints the model reads (at most ``max_complaints_wind`` per event)."""
    f, n_top, n_any, named = top
    if f < 0 or n_any == 0:
        return ""
    from envtrace.classify import odour_lexicon

    lex = odour_lexicon()
    fam = lex[f]
    typical = None if not fam_mask else bool((int(fam_mask) >> f) & 1)
    alt = -1
    if typical is False:
        cand = [(n, -b) for b, n in enumerate(named) if n > 0 and (int(fam_mask) >> b) & 1]
        alt = -max(cand)[1] if cand else -1
    if lang == "zh":
        tail = "" if typical is None else ("，与其行业特征相符" if typical else "，与其行业特征不符")
        if alt >= 0:
            tail += f"（另有{named[alt]}件描述为{lex[alt].name_zh}，相符）"
        return f"投诉描述为{fam.name_zh}（描述气味的{n_any}件中{n_top}件）{tail}"
    tail = "" if typical is None else (": typical of its industry" if typical else ": not typical of its industry")
    if alt >= 0:
        tail += f" ({named[alt]} name a {lex[alt].name_en} smell, typical)"
    return f"complaints name a {fam.name_en} smell ({n_top} of {n_any} naming one){tail}"
