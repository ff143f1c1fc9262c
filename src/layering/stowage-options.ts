/**
 * The tunables of Stowage's layering (`stowage.ts`), each with the default the bench measured
 * best (docs/layering.md gives the measurements behind every default).
 */
export interface StowageOptions {
  /** Budget at which `joinBytesAtReferenceBudget` and `minCoverRatio` apply. Default 94 (Nixery's budget). */
  readonly referenceBudget?: number;
  /** Paths below this many bytes may join a coverer at the reference budget. Default 1 MB. */
  readonly joinBytesAtReferenceBudget?: number;
  /** Minimum estimated share of a path's images that also hold its coverer, at the reference budget. Default 1/1.2. */
  readonly minCoverRatio?: number;
  /**
   * At this budget and below, `minCoverRatioAtTightBudget` applies; from twice this budget up,
   * `minCoverRatio`; in between, the ratio follows log(budget). Default 20.
   */
  readonly tightBudget?: number;
  /**
   * `minCoverRatio` when the popularity carries a co-occurrence table. Default 0.9: with the
   * table's classes and ranking, joining fewer paths to coverers pulls fewer bytes from budget 40
   * up (docs/layering.md, "Co-occurrence data").
   */
  readonly minCoverRatioWithTable?: number;
  /** `minCoverRatio` at the tight budget and below. Default 0.75. */
  readonly minCoverRatioAtTightBudget?: number;
  /** With a `CoOccurrencePopularity`: paths in fewer images of its table are not joined by it. Default 10. */
  readonly minImages?: number;
  /**
   * With a `CoOccurrencePopularity`, own layers go to units by bytes × (c + 1) / (c + 1 + k), c
   * the images of the table holding the unit's most common path and k this share of the table's
   * images, from twice `tightBudget` up. Default 1/16.
   */
  readonly rareImagesShare?: number;
  /**
   * `rareImagesShare` at the tight budget and below (following log(budget) up to twice it, as the
   * cover ratio does). Default 1/8: 1/16 there is better on two trace families and worse on the
   * third (docs/layering.md, "Issue 16, fifth round").
   */
  readonly rareImagesShareAtTightBudget?: number;
  /**
   * With a `CoOccurrencePopularity`: a path without references (arch-independent data such as
   * `binutils-common` or `fonts-dejavu-core`) of at least this many bytes joins no coverer
   * reaching more than `dataApartReach` other paths. Default 100 kB.
   */
  readonly dataApartBytes?: number;
  /** See `dataApartBytes`. Default 3. */
  readonly dataApartReach?: number;
  /**
   * Above the tight budget, a path whose references are all reference-free counts as data too
   * (`data-paths.ts`). Default true; false keeps reference-free paths alone at every budget.
   */
  readonly dataOneLevelAboveTightBudget?: boolean;
  /**
   * With a `CoOccurrencePopularity`, a cover join must also pass in the table's images at this
   * ratio (`CoverOptions.tableCover`); 0 turns the check off. Default 0.75 at every budget: the
   * table is of a past period, so it vetoes only joins it clearly contradicts (the budget's own
   * ratio, 0.9 from 40 up, measured worse on the desktop mix at 94; docs/layering.md).
   */
  readonly tableCoverRatio?: number;
  /**
   * With a `CoOccurrencePopularity`, at the tight budget and below: a class is a label over the
   * whole table (`co-occurrence-labels.ts`), signatures at this estimated Jaccard similarity or
   * more with a more-held one sharing its label; 0 keeps equal signatures. Default 0.95.
   */
  readonly classJaccardAtTightBudget?: number;
  /**
   * Labels only for names at least this many of the table's images held (others keep equal
   * signatures): at 0.95 a label then tolerates five images of difference or more, not one or two.
   * Default 100 (tables of 24 to 28 images gave labels that cost bytes on real Debian closures).
   */
  readonly labelMinImages?: number;
  /**
   * With a `CoOccurrencePopularity`, at the tight budget and below: a path held by fewer than this
   * share of the table's images (or by none) joins a coverer at `rareCoverRatioAtTightBudget`
   * (`CoverOptions.rareCover`). Default 1/50; 0 turns it off.
   */
  readonly rareCoverShareAtTightBudget?: number;
  /** See `rareCoverShareAtTightBudget`. Default 0.3. */
  readonly rareCoverRatioAtTightBudget?: number;
}
