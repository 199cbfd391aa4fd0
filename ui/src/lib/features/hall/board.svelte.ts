// The hall board (hall, windows with who is on duty, categories), kept live by events.
import { live } from '$lib/live.svelte';

export const liveBoard = () => live('hall.board', {});
