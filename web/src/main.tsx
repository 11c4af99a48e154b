import { render } from 'preact';
import './audio.ts';
import { App } from './app.tsx';
import './styles.css';

render(<App />, document.getElementById('app')!);
