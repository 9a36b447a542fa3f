/** Colour for the screen's tags, or none: renderers take a `Paint` so they stay free of blessed and of the colour setting. */

/** Wraps text in a colour (blessed's `{red-fg}…{/red-fg}` tags when colour is on). */
export type Paint = (text: string, colour: 'red' | 'green' | 'yellow') => string;

/** No colour: the text as it is (for `--no-color` terminals and for tests). */
export const plain: Paint = (text) => text;

/** blessed tags for a colour terminal. */
export const tagged: Paint = (text, colour) => `{${colour}-fg}${text}{/${colour}-fg}`;
