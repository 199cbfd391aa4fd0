// A picked file's bytes for an operation that takes them (base64 in JSON): a spreadsheet, a
// roster saved as GBK by Excel. The text is never decoded here: the core knows the encodings.

export async function fileToBase64(file: Blob): Promise<string> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let bin = '';
  // In slices: String.fromCharCode with a whole megabyte of arguments overflows the stack.
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}
