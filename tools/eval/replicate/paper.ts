// The paper's reported figures (Park et al., M2FN), keyed the way the replication names its
// variants. Real-Ad figures for Tables 4, 7 and 8; Table 5 (CBN placement) exists only for AVA.

export interface PaperFigure {
  sprc: number;
  lcc: number;
  /** Distribution outputs: SPRC/LCC of the std. */
  sprcStd?: number;
  lccStd?: number;
  /** Where the number comes from, e.g. "Table 7, 500+". */
  source: string;
}

export type DatasetKey = '100+' | '500+';

const t7 = (s5: number, l5: number, s1: number, l1: number): Record<DatasetKey, PaperFigure> => ({
  '500+': { sprc: s5, lcc: l5, source: 'Table 7, Real-Ad 500+' },
  '100+': { sprc: s1, lcc: l1, source: 'Table 7, Real-Ad 100+' },
});

/** Table 7 (Real-Ad): attribute-only baselines, M2FN without image, and the module toggles (Aux, Low, Att, High). */
export const TABLE7: Record<string, Record<DatasetKey, PaperFigure>> = {
  linear: t7(0.239, 0.195, 0.166, 0.156),
  'svr-rbf': t7(0.102, 0.16, 0.183, 0.126),
  'svr-poly': t7(0.242, 0.177, 0.201, 0.197),
  mlp: t7(0.241, 0.193, 0.24, 0.217),
  'no-image': t7(0.306, 0.295, 0.244, 0.23),
  'mods-xxxx': t7(0.456, 0.435, 0.315, 0.342),
  'mods-Oxxx': t7(0.437, 0.412, 0.297, 0.32),
  'mods-OOxx': t7(0.496, 0.498, 0.367, 0.371),
  'mods-OxOx': t7(0.45, 0.463, 0.341, 0.325),
  'mods-OxxO': t7(0.475, 0.467, 0.321, 0.293),
  'mods-OOOx': t7(0.506, 0.48, 0.356, 0.334),
  'mods-OOxO': t7(0.554, 0.528, 0.361, 0.333),
  'mods-OOOO': t7(0.561, 0.53, 0.384, 0.381),
};

/** Table 4 (Real-Ad): NIMA (EMD), NIMA* (KLD) and M2FN with distribution outputs, NIMA and M2FN regression. */
export const TABLE4: Record<string, Record<DatasetKey, PaperFigure>> = {
  'nima-emd': {
    '100+': { sprc: 0.11, lcc: 0.121, sprcStd: 0.146, lccStd: 0.142, source: 'Table 4, 100+ dist.' },
    '500+': { sprc: 0.308, lcc: 0.249, sprcStd: 0.165, lccStd: 0.166, source: 'Table 4, 500+ dist.' },
  },
  'nima-kld': {
    '100+': { sprc: 0.289, lcc: 0.29, sprcStd: 0.139, lccStd: 0.143, source: 'Table 4, 100+ dist.' },
    '500+': { sprc: 0.453, lcc: 0.448, sprcStd: 0.19, lccStd: 0.19, source: 'Table 4, 500+ dist.' },
  },
  'm2fn-kld': {
    '100+': { sprc: 0.344, lcc: 0.367, sprcStd: 0.172, lccStd: 0.175, source: 'Table 4, 100+ dist.' },
    '500+': { sprc: 0.484, lcc: 0.478, sprcStd: 0.216, lccStd: 0.19, source: 'Table 4, 500+ dist.' },
  },
  'nima-regr': {
    '100+': { sprc: 0.325, lcc: 0.343, source: 'Table 4, 100+ regr.' },
    '500+': { sprc: 0.501, lcc: 0.451, source: 'Table 4, 500+ regr.' },
  },
};

/** Table 5 (AVA only): CBN placement over the five VGG blocks; also VGG19 image-only and M1FN (concat). */
export const TABLE5_AVA: Record<string, PaperFigure> = {
  'cbn-11111': { sprc: 0.552, lcc: 0.553, sprcStd: 0.183, lccStd: 0.176, source: 'Table 5, AVA' },
  'cbn-00001': { sprc: 0.572, lcc: 0.579, sprcStd: 0.2, lccStd: 0.198, source: 'Table 5, AVA' },
  'cbn-00111': { sprc: 0.575, lcc: 0.573, sprcStd: 0.203, lccStd: 0.196, source: 'Table 5, AVA' },
  'cbn-00100': { sprc: 0.59, lcc: 0.601, sprcStd: 0.23, lccStd: 0.229, source: 'Table 5, AVA' },
  'cbn-11100': { sprc: 0.612, lcc: 0.613, sprcStd: 0.253, lccStd: 0.266, source: 'Table 5, AVA' },
  'cbn-10000': { sprc: 0.63, lcc: 0.64, sprcStd: 0.31, lccStd: 0.322, source: 'Table 5, AVA' },
};

/** Table 8 (Real-Ad 500+): M2FN trained without some attributes, or with only some. */
export const TABLE8: Record<string, PaperFigure> = {
  'aux-none': { sprc: 0.456, lcc: 0.435, source: 'Table 8 (None = image only)' },
  'aux-all': { sprc: 0.561, lcc: 0.53, source: 'Table 8 (ALL)' },
  'drop-weekday': { sprc: 0.454, lcc: 0.413, source: 'Table 8' },
  'drop-desc': { sprc: 0.467, lcc: 0.453, source: 'Table 8' },
  'drop-domcol': { sprc: 0.503, lcc: 0.47, source: 'Table 8 (− color)' },
  'drop-user+text': { sprc: 0.513, lcc: 0.507, source: 'Table 8' },
  'drop-ocr': { sprc: 0.515, lcc: 0.491, source: 'Table 8' },
  'drop-position': { sprc: 0.516, lcc: 0.487, source: 'Table 8' },
  'drop-hour': { sprc: 0.531, lcc: 0.501, source: 'Table 8 (− time)' },
  'drop-gender': { sprc: 0.532, lcc: 0.47, source: 'Table 8' },
  'drop-age': { sprc: 0.535, lcc: 0.486, source: 'Table 8' },
  'drop-user': { sprc: 0.539, lcc: 0.514, source: 'Table 8' },
  'only-text': { sprc: 0.422, lcc: 0.369, source: 'Table 8 (Text)' },
  'only-desc': { sprc: 0.453, lcc: 0.411, source: 'Table 8 (Text − (title + ocr))' },
  'only-user': { sprc: 0.437, lcc: 0.397, source: 'Table 8 (User)' },
};
